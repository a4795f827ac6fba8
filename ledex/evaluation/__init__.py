"""Evaluation: the self-debug loop, pass@k, per-problem scores and their CIs, the attempt cache, the
report with its decision card, and the model registry with its promotion gate."""
