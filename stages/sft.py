"""Stage `sft`: fine-tune the policy on the verified data in chat form (paper 2.2 and 3.1).

The examples (`stages.sft_data`): correct initial solutions, and every verified refinement as a
refine-only answer and, when it came with an explanation, as an explanation-then-refinement
answer; the loss covers only the final answer. Expert reviewers' corrected answers
(`data/feedback/demonstrations.jsonl`) join them, never dropped by the per-format cap.
Training is TRL's SFTTrainer on the pre-tokenized examples (their `labels` are used as they
are), with LoRA merged into the base afterwards or full fine-tuning (`sft.method`).
Conversations longer than `sft.max_length` are left out, never cut. Trainer checkpoints go to `data/.checkpoints/sft/`; a killed run resumes from the last one
when the inputs and settings are unchanged, and starts over otherwise.
The `evaluate` stage registers the best trained checkpoint in MLflow and decides its alias.
Outputs: `models/sft/` (a plain Hugging Face checkpoint with its tokenizer), `metrics/sft.json`.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase, TrainerCallback
from transformers.trainer_utils import get_last_checkpoint
from trl import SFTConfig, SFTTrainer

from stages.checkpoint import fingerprint
from stages.config import Params, SftParams, load_params
from stages.execute_filter import OUT as EXECUTIONS
from stages.models import resolve_model, save_checkpoint
from stages.records import Demonstration, Execution, VerifiedRefinement
from stages.sft_data import (
    FORMATS, IGNORE_INDEX, build_examples, cap_per_format, demonstration_examples, tokenize_example, unique,
)
from stages.stage_io import CHECKPOINTS, PROBLEMS, publish_metrics, read_problems, read_records
from stages.tracking import stage_run
from stages.verify import OUT as VERIFY

OUT = Path("models/sft")
CORRECT = EXECUTIONS / "correct.jsonl"
WRONG = EXECUTIONS / "wrong.jsonl"
VERIFIED = VERIFY / "verified.jsonl"
DEMONSTRATIONS = Path("data/feedback/demonstrations.jsonl")  # review-export's output
TRAINER_CHECKPOINTS = CHECKPOINTS / "sft"
FINGERPRINT_FILE = "fingerprint"


class LogToMlflow(TrainerCallback):
    """The trainer's logs (loss, learning rate, grad norm) as MLflow metrics, by optimizer step."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        import mlflow

        numbers = {f"train.{k}": float(v) for k, v in (logs or {}).items() if isinstance(v, (int, float))}
        mlflow.log_metrics(numbers, step=state.global_step)


def training_examples(params: Params, tokenizer: PreTrainedTokenizerBase) -> tuple[list[dict], dict]:
    """The tokenized examples, in input order, and how many of each format were found and kept.

    Duplicates and conversations over `max_length` tokens are dropped before the per-format cap,
    which leaves the reviewers' demonstrations out: they are all kept.
    """
    cfg = params.sft
    examples = build_examples(
        read_problems(),
        read_records(CORRECT, Execution),
        read_records(WRONG, Execution),
        read_records(VERIFIED, VerifiedRefinement),
        sources=(str(CORRECT), str(WRONG), str(VERIFIED)),
    )
    demonstrations = []
    if DEMONSTRATIONS.exists():
        demonstrations = demonstration_examples(read_records(DEMONSTRATIONS, Demonstration), str(DEMONSTRATIONS))
    distinct = unique(examples + demonstrations)
    rows = {example.id: tokenize_example(example, tokenizer) for example in distinct}
    fitting = [example for example in distinct if len(rows[example.id]["input_ids"]) <= cfg.max_length]
    reviewed = {example.id for example in demonstrations}
    chosen = cap_per_format([e for e in fitting if e.id not in reviewed], cfg.max_examples_per_format, cfg.seed)
    chosen += [example for example in fitting if example.id in reviewed]
    counts = {
        "examples_found": _by_format(Counter(e.format for e in examples)),
        "duplicates": len(examples) + len(demonstrations) - len(distinct),
        "too_long": len(distinct) - len(fitting),
        "demonstrations": sum(example.id in reviewed for example in chosen),
        "examples": _by_format(Counter(e.format for e in chosen)),
        "answer_tokens": sum(label != IGNORE_INDEX for e in chosen for label in rows[e.id]["labels"]),
    }
    return [rows[example.id] for example in chosen], counts


def _by_format(counts: Counter) -> dict:
    return {name: counts[name] for name in FORMATS}


def trainer_config(cfg: SftParams, output_dir: Path) -> SFTConfig:
    on_gpu = torch.cuda.is_available()
    return SFTConfig(
        output_dir=str(output_dir),
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=cfg.batch_size // cfg.micro_batch_size,
        warmup_steps=cfg.warmup_steps,
        lr_scheduler_type=cfg.lr_scheduler,
        max_length=cfg.max_length,
        activation_checkpointing=cfg.activation_checkpointing,
        bf16=on_gpu,  # bf16 autocast on GPU; plain fp32 on CPU
        use_cpu=not on_gpu,
        seed=cfg.seed,
        logging_steps=1,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=1,
        report_to="none",  # LogToMlflow logs into the stage's own MLflow run
    )


def build_trainer(params: Params, tokenizer: PreTrainedTokenizerBase, rows: list[dict], output_dir: Path) -> SFTTrainer:
    cfg = params.sft
    model = AutoModelForCausalLM.from_pretrained(resolve_model(params.models.policy), dtype=torch.float32)
    peft_config = None
    if cfg.method == "lora":
        peft_config = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=cfg.lora_target_modules,
            task_type="CAUSAL_LM",
        )
    return SFTTrainer(
        model=model,
        args=trainer_config(cfg, output_dir),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[LogToMlflow()],
    )


def checkpoint_dir(inputs: str) -> Path:
    """The trainer's checkpoint folder, emptied unless it holds checkpoints of these inputs."""
    stamp = TRAINER_CHECKPOINTS / FINGERPRINT_FILE
    if not stamp.exists() or stamp.read_text() != inputs:
        shutil.rmtree(TRAINER_CHECKPOINTS, ignore_errors=True)
        TRAINER_CHECKPOINTS.mkdir(parents=True)
        stamp.write_text(inputs)
    return TRAINER_CHECKPOINTS


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
    output_dir = checkpoint_dir(inputs)
    resume_from = get_last_checkpoint(str(output_dir))
    trainer = build_trainer(params, tokenizer, rows, output_dir)
    resumed_step = int(Path(resume_from).name.split("-")[-1]) if resume_from else 0
    result = trainer.train(resume_from_checkpoint=resume_from)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(trainer.model, trainer.processing_class, OUT)
    shutil.rmtree(output_dir)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    steps = trainer.state.global_step
    return {
        **counts,
        "method": cfg.method,
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
        publish_metrics("sft", run(params))


if __name__ == "__main__":
    main()
