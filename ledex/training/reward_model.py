"""A learned reward model from expert preferences (the industrial project's RLHF reward model).

Preferences are JSONL rows `{"prompt", "chosen", "rejected"}` with an optional `"severity"` tier
(the review app exports them). TRL's RewardTrainer fits a one-logit sequence-classification head
on a small causal LM with the Bradley-Terry loss -log sigmoid(r(chosen) - r(rejected) - m), and a
held-out split measures how often the chosen answer outscores the rejected one.

Severity weighting: RewardTrainer has no per-example loss weight, but it has a per-pair margin m
(as in Llama 2's reward model). A pair with a severity tier gets m = the tier's weight, so pairs
about severer bugs must be separated by a larger reward gap; a pair without one gets m = 0.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ledex.execution.severity import SeverityWeights
from ledex.generation.models import resolve_model
from ledex.pipeline.checkpoint import fingerprint, guarded_folder
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.jsonl import JsonlError, numbered_jsonl
from ledex.pipeline.paths import CHECKPOINTS, REWARD_MODEL
from ledex.training.mixed_precision import trains_in_bf16

REWARD_MODEL_SETTINGS = {name for name in RewardFitParams.model_fields if name.startswith("reward_model")} | {
    "severity_weights",
    "held_out_fraction",
    "seed",
}
log = logging.getLogger("ledex.reward_fit")


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str
    rejected: str
    severity: str | None = None


def read_preferences(path: Path, severity: SeverityWeights) -> list[PreferencePair]:
    """Every pair of the file; a bad row is an error naming `file:line`."""
    return [_pair(row, f"{path}:{number}", severity) for number, row in numbered_jsonl(path)]


def _pair(row: dict, where: str, severity: SeverityWeights) -> PreferencePair:
    for field in ("prompt", "chosen", "rejected"):
        if not isinstance(row.get(field), str) or not row[field].strip():
            raise JsonlError(f"{where}: '{field}' must be a non-empty string")
    if row["chosen"] == row["rejected"]:
        raise JsonlError(f"{where}: 'chosen' and 'rejected' are the same text")
    tier = row.get("severity")
    if tier is not None and tier not in severity.weights:
        raise JsonlError(f"{where}: unknown severity {tier!r}; known: {', '.join(severity.weights)}")
    return PreferencePair(row["prompt"], row["chosen"], row["rejected"], tier)


def split_held_out(pairs: list[PreferencePair], fraction: float, seed: int) -> tuple[list, list]:
    """A seeded shuffle, then at least one pair on each side."""
    if len(pairs) < 2:
        raise ValueError(f"need at least 2 preference pairs to hold one out, got {len(pairs)}")
    shuffled = random.Random(seed).sample(pairs, len(pairs))
    held_out = min(max(1, math.ceil(fraction * len(pairs))), len(pairs) - 1)
    return shuffled[held_out:], shuffled[:held_out]


def train_reward_model(
    pairs: list[PreferencePair],
    settings: RewardFitParams,
    severity: SeverityWeights,
    out_dir: Path,
    checkpoint_dir: Path,
    inputs_fingerprint: str,
) -> dict:
    """Train on all but the held-out pairs, save the model to `out_dir`, report held-out accuracy.

    Trainer checkpoints in `checkpoint_dir` (guarded by `inputs_fingerprint`) let a killed run resume.
    """
    from datasets import Dataset
    from transformers import AutoTokenizer
    from transformers.trainer_utils import get_last_checkpoint
    from trl import RewardTrainer

    train, held_out = split_held_out(pairs, settings.held_out_fraction, settings.seed)
    base = resolve_model(settings.reward_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    with_margin = any(pair.severity for pair in pairs)

    def dataset(part: list[PreferencePair]) -> Dataset:
        return Dataset.from_list(
            [_example(pair, tokenizer.chat_template is not None, with_margin, severity) for pair in part]
        )

    guarded_folder(checkpoint_dir, inputs_fingerprint)
    config = reward_config(settings, checkpoint_dir)
    trainer = RewardTrainer(
        model=str(base),
        args=config,
        train_dataset=dataset(train),
        eval_dataset=dataset(held_out),
        processing_class=tokenizer,
    )
    if len(trainer.train_dataset) == 0 or len(trainer.eval_dataset) == 0:
        raise ValueError(
            f"no preference pair fits reward_fit.reward_model_max_length={settings.reward_model_max_length} "
            "on one side of the split"
        )
    result = trainer.train(resume_from_checkpoint=get_last_checkpoint(checkpoint_dir))
    trainer.save_model(str(out_dir))
    accuracy = held_out_accuracy(trainer.model, trainer.eval_dataset)
    shutil.rmtree(checkpoint_dir)
    return {
        "status": "trained",
        "base": settings.reward_model,
        "pairs": len(pairs),
        "train_pairs": len(trainer.train_dataset),
        "held_out_pairs": len(trainer.eval_dataset),
        "severity_margins": with_margin,
        "precision": "bfloat16" if config.bf16 else "float32",
        "train_loss": round(result.training_loss, 4),
        "held_out_accuracy": round(accuracy, 4),
    }


def reward_config(settings: RewardFitParams, checkpoint_dir: Path):
    """TRL's RewardConfig for `settings`: bf16 autocast over the fp32 weights when
    `reward_model_precision` resolves to bf16 (the saved model is fp32 either way)."""
    from trl import RewardConfig

    on_gpu = torch.cuda.is_available()
    return RewardConfig(
        output_dir=str(checkpoint_dir),
        num_train_epochs=settings.reward_model_epochs,
        per_device_train_batch_size=settings.reward_model_batch_size,
        per_device_eval_batch_size=settings.reward_model_batch_size,
        learning_rate=settings.reward_model_learning_rate,
        max_length=settings.reward_model_max_length,
        seed=settings.seed,
        bf16=trains_in_bf16(settings.reward_model_precision),
        use_cpu=not on_gpu,
        activation_checkpointing=False,
        dataloader_pin_memory=on_gpu,
        save_strategy="steps",
        save_steps=0.25,  # a quarter of the run: a killed run loses at most that
        save_total_limit=1,
        logging_steps=1,
        report_to="none",
    )


def _example(pair: PreferencePair, conversational: bool, with_margin: bool, severity: SeverityWeights) -> dict:
    """RewardTrainer's explicit-prompt format: chat messages when the base has a chat template."""
    if conversational:
        example = {
            "prompt": [{"role": "user", "content": pair.prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}],
        }
    else:
        example = {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}
    if with_margin:
        example["margin"] = severity.weight(pair.severity) if pair.severity else 0.0
    return example


def held_out_accuracy(model, held_out) -> float:
    """The share of tokenized pairs whose chosen answer scores strictly above the rejected one."""
    model.eval()
    wins = 0
    with torch.no_grad():
        for example in held_out:
            chosen, rejected = (
                model(input_ids=torch.tensor([example[key]], device=model.device)).logits.item()
                for key in ("chosen_ids", "rejected_ids")
            )
            wins += chosen > rejected
    return wins / len(held_out)


def read_expert_preferences(settings: RewardFitParams, severity: SeverityWeights) -> list | None:
    """The preference pairs, or None when there is no preference file (a bad row is an error)."""
    if not settings.preferences.exists():
        log.info("reward-fit: no expert preferences at %s; skipping the learned reward model", settings.preferences)
        return None
    return read_preferences(settings.preferences, severity)


def fit_reward_model(pairs: list | None, settings: RewardFitParams, severity: SeverityWeights) -> dict:
    """Train the learned reward model on the pairs into REWARD_MODEL; its `status.json` says whether it did."""
    shutil.rmtree(REWARD_MODEL, ignore_errors=True)
    REWARD_MODEL.mkdir(parents=True)
    path = settings.preferences
    if pairs is None:
        result = {"status": "skipped", "reason": f"no preference file at {path}"}
    elif len(pairs) < 2:
        log.info("reward-fit: %s holds %d preference pair(s); skipping the learned reward model", path, len(pairs))
        result = {"status": "skipped", "reason": f"{len(pairs)} preference pair(s) in {path}, need 2"}
    else:
        started = time.perf_counter()
        inputs = fingerprint(path, settings.model_dump(mode="json", include=REWARD_MODEL_SETTINGS))
        result = train_reward_model(pairs, settings, severity, REWARD_MODEL, CHECKPOINTS / "reward_model", inputs)
        result["seconds"] = round(time.perf_counter() - started, 1)
    (REWARD_MODEL / "status.json").write_text(json.dumps(result, indent=2) + "\n")
    return result
