"""Orchestration: the `ledex` CLI and the Prefect flows over the DVC stages."""
