"""Every test starts from the environment the suite started with.

Stages run in-process by some tests call ``mlflow.set_tracking_uri`` and
``mlflow.set_experiment``, which export ``MLFLOW_TRACKING_URI`` and
``MLFLOW_EXPERIMENT_ID`` into ``os.environ``; left there, every later
subprocess (the end-to-end ``dvc repro`` included) would log into that test's
temporary database instead of its own repository's ``mlflow.db``.
"""

import os

import pytest


@pytest.fixture(autouse=True)
def _restore_environ():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
