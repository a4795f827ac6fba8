"""Stage `sft`: fine-tune the policy on the verified data in chat form (paper 2.2 and 3.1).

The examples (`ledex.training.sft_data`): correct initial solutions, and every verified
refinement as a refine-only answer and, when it came with an explanation, as an
explanation-then-refinement answer; the loss covers only the final answer. Expert reviewers'
corrected answers (`data/feedback/demonstrations.jsonl`) join them, never dropped by the
per-format cap. Training is TRL's SFTTrainer (`ledex.training.sft_trainer`), LoRA merged into
the base afterwards or full fine-tuning (`sft.method`). Trainer checkpoints go to
`data/.checkpoints/sft/`; a killed run resumes from the last one when the inputs and settings
are unchanged, and starts over otherwise. The `evaluate` stage registers the best trained
checkpoint in MLflow and decides its alias.
Outputs: `models/sft/` (a plain Hugging Face checkpoint with its tokenizer), `metrics/sft.json`.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from transformers import AutoTokenizer
from transformers.trainer_utils import get_last_checkpoint

from ledex.generation.models import resolve_model, save_checkpoint
from ledex.pipeline.checkpoint import fingerprint, guarded_folder
from ledex.pipeline.config import Params, load_params
from ledex.pipeline.paths import CHECKPOINTS, CORRECT, DEMONSTRATIONS, PROBLEMS, SFT_MODEL, VERIFIED, WRONG
from ledex.pipeline.policy import use_policy
from ledex.pipeline.stage_io import publish_metrics
from ledex.pipeline.tracking import stage_run
from ledex.training.sft_trainer import build_trainer, training_examples

TRAINER_CHECKPOINTS = CHECKPOINTS / "sft"


def run(params: Params) -> dict:
    cfg = params.sft
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(params.models.policy))
    rows, counts = training_examples(params, tokenizer)
    if not rows:
        raise ValueError(
            f"sft: no training examples within max_length={cfg.max_length} from {CORRECT} and {VERIFIED} ({counts})"
        )
    reviewed = [DEMONSTRATIONS] if DEMONSTRATIONS.exists() and DEMONSTRATIONS.stat().st_size else []
    inputs = fingerprint(PROBLEMS, CORRECT, WRONG, VERIFIED, *reviewed, params.models.policy, cfg.model_dump())
    output_dir = TRAINER_CHECKPOINTS
    guarded_folder(output_dir, inputs)
    resume_from = get_last_checkpoint(str(output_dir))
    trainer = build_trainer(params, tokenizer, rows, output_dir)
    resumed_step = int(Path(resume_from).name.split("-")[-1]) if resume_from else 0
    result = trainer.train(resume_from_checkpoint=resume_from)
    SFT_MODEL.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(trainer.model, trainer.processing_class, SFT_MODEL)
    shutil.rmtree(output_dir)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    steps = trainer.state.global_step
    return {
        **counts,
        "method": cfg.method,
        "precision": "bfloat16" if trainer.args.bf16 else "float32",
        "steps": steps,
        "resumed_from_step": resumed_step,
        "train_loss": round(sum(losses) / len(losses), 4),
        "final_loss": round(losses[-1], 4),
        # per optimizer step of this run, checkpoint saving included
        "seconds_per_step": round(result.metrics["train_runtime"] / max(steps - resumed_step, 1), 2),
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    params = load_params()
    tracked = {"models.policy": params.models.policy, "sft": params.sft.model_dump()}
    with stage_run("sft", tracked, params.tracking.uri):
        publish_metrics("sft", run(use_policy(params, "sft")))


if __name__ == "__main__":
    main()
