"""SFT on the verified data: the tokenized examples, and TRL's SFTTrainer set up for them.

The examples (`ledex.training.sft_data`) are deduplicated; conversations longer than
`sft.max_length` tokens are left out, never cut; the per-format cap leaves the reviewers'
demonstrations out, so they are all kept. LoRA (merged afterwards) or full fine-tuning.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, PreTrainedTokenizerBase, TrainerCallback
from trl import SFTConfig, SFTTrainer

from ledex.generation.models import resolve_model
from ledex.pipeline.config import Params, SftParams
from ledex.pipeline.paths import CORRECT, DEMONSTRATIONS, VERIFIED, WRONG
from ledex.pipeline.records import Demonstration, Execution, VerifiedRefinement
from ledex.pipeline.stage_io import read_problems, read_records
from ledex.training.mixed_precision import trains_in_bf16
from ledex.training.sft_data import (
    FORMATS,
    IGNORE_INDEX,
    build_examples,
    cap_per_format,
    demonstration_examples,
    tokenize_example,
    unique,
)


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
    """TRL's settings for `cfg`: bf16 autocast over the fp32 weights when `cfg.precision` resolves to bf16."""
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
        bf16=trains_in_bf16(cfg.precision),
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
    # fp32 weights, the frozen base too (ledex.training.mixed_precision): the merged checkpoint is fp32
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
