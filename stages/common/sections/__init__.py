"""The params schema: one module per area of params.yaml, each a ``SECTIONS`` dict (section name ->
checker). A stage imports the modules of the sections it reads and passes them to
``stages.common.params.load_params``, so its DVC deps hold only the code of its own experiment;
``full.SCHEMAS`` is every module (the tests, ``configs.paper``).

Nothing is imported here: importing one area must not import the others.
"""
