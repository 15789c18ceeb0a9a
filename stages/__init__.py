"""Thin DVC stages: read params, call ``ebm``, write outputs, log one MLflow run each."""
