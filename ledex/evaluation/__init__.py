"""Evaluation: the self-debug loop, pass@k, the report, and the model registry."""
