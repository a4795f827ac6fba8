"""The pipeline's common ground: configuration, artifact paths, records, JSONL, checkpoints, tracking."""
