"""Implicit Generation and Generalization in Energy-Based Models (Du & Mordatch, 2019).

The library: tensors in, tensors out. No YAML, no MLflow, no file paths; the
pipeline stages in ``stages/`` own those.
"""
