"""The helpers of the LEDEX stages, by what they are about.

    pipeline/    the common ground: configuration, artifact paths, records, JSONL, checkpoints, tracking
    problems/    benchmarks and the problem sets drawn from them
    generation/  models, generation backends, prompts, answer parsing
    execution/   programs as sandbox jobs, execution feedback, severity, hallucination
    training/    SFT data and trainer, PPO, rewards, the learned reward model
    evaluation/  the self-debug loop, pass@k, the report, the model registry

Stages (`stages/`) import these; nothing here imports a stage.
"""
