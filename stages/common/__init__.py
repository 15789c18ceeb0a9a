"""Helpers shared by the stages: paths, params, atomic I/O, MLflow tracking."""
