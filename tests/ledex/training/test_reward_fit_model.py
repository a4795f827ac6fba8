"""The learned reward model: expert preference rows, RewardTrainer on a tiny random Qwen2, held-out accuracy."""

from __future__ import annotations

import json
import math

import pytest
from transformers import AutoModelForSequenceClassification

from ledex.execution.severity import SeverityWeights
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.jsonl import JsonlError
from ledex.training import reward_model
from ledex.training.reward_model import (
    PreferencePair,
    held_out_accuracy,
    read_preferences,
    reward_config,
    split_held_out,
)
from stages.reward_fit import fit_reward_model, read_expert_preferences

SEVERITY = SeverityWeights.from_params(RewardFitParams())
GOOD = (
    "The loop compares an element with itself; skip i == j.\n```python\n"
    "return any(abs(a - b) < t for i, a in enumerate(xs) for j, b in enumerate(xs) if i != j)\n```"
)
BAD = "Looks fine to me.\n```python\nreturn True\n```"


def preference_rows(count: int = 8) -> list[dict]:
    tiers = ["syntax", "runtime", "resource", "wrong_answer", None]
    rows = []
    for i in range(count):
        row = {"prompt": f"Fix the bug in has_close (case {i}).", "chosen": GOOD, "rejected": BAD}
        if tiers[i % len(tiers)]:
            row["severity"] = tiers[i % len(tiers)]
        rows.append(row)
    return rows


def write_preferences(path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))


def test_reward_trainer_fits_a_tiny_model_and_reports_held_out_accuracy(tmp_path, monkeypatch, tiny_qwen2_checkpoint):
    monkeypatch.chdir(tmp_path)
    settings = RewardFitParams(
        reward_model=str(tiny_qwen2_checkpoint),
        reward_model_batch_size=2,
        reward_model_epochs=2,
        reward_model_learning_rate=1e-3,
        reward_model_max_length=256,
        held_out_fraction=0.25,
    )
    write_preferences(settings.preferences, preference_rows(8))

    result = fit_reward_model(read_expert_preferences(settings, SEVERITY), settings, SEVERITY)

    assert result["status"] == "trained" and result["severity_margins"] is True
    assert (result["pairs"], result["train_pairs"], result["held_out_pairs"]) == (8, 6, 2)
    assert 0.0 <= result["held_out_accuracy"] <= 1.0
    # the pairs share one good and one bad answer: the model learns them and ranks unseen prompts right
    assert result["train_loss"] < math.log(2) and result["held_out_accuracy"] == 1.0
    assert json.loads((tmp_path / "models/reward_model/status.json").read_text()) == result
    model = AutoModelForSequenceClassification.from_pretrained(tmp_path / "models/reward_model")
    assert model.config.num_labels == 1
    assert not (tmp_path / "data/.checkpoints/reward_model").exists()  # trainer checkpoints dropped once done


@pytest.mark.parametrize("precision, bf16", [("bfloat16", True), ("float32", False)])
def test_reward_model_trains_under_bf16_autocast_only_when_the_precision_says_so(tmp_path, precision, bf16):
    assert reward_config(RewardFitParams(reward_model_precision=precision), tmp_path).bf16 is bf16


def test_held_out_accuracy_counts_strict_wins(tiny_qwen2_checkpoint):
    model = AutoModelForSequenceClassification.from_pretrained(tiny_qwen2_checkpoint, num_labels=1)
    model.config.pad_token_id = 0
    pairs = [{"chosen_ids": [5, 6, 7], "rejected_ids": [8, 9]}, {"chosen_ids": [10, 11], "rejected_ids": [12, 13, 14]}]
    accuracy = held_out_accuracy(model, pairs)
    swapped = held_out_accuracy(
        model, [{"chosen_ids": p["rejected_ids"], "rejected_ids": p["chosen_ids"]} for p in pairs]
    )
    assert accuracy + swapped == pytest.approx(1.0)  # no ties between these different sequences
    assert held_out_accuracy(model, [{"chosen_ids": [5, 6], "rejected_ids": [5, 6]}]) == 0.0  # a tie is no win


def test_split_holds_out_at_least_one_pair_on_each_side():
    pairs = [PreferencePair(f"p{i}", "a", "b") for i in range(3)]
    train, held_out = split_held_out(pairs, 0.01, seed=0)
    assert len(train) == 2 and len(held_out) == 1
    train, held_out = split_held_out(pairs, 0.99, seed=0)
    assert len(train) == 1 and len(held_out) == 2
    assert split_held_out(pairs, 0.5, seed=1) == split_held_out(pairs, 0.5, seed=1)


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ('{"prompt": "p", "chosen": "a",', r"prefs.jsonl:3: not valid JSON"),
        ('["p", "a", "b"]', r"prefs.jsonl:3: expected a JSON object, got list"),
        ('{"prompt": "p", "chosen": "a"}', r"prefs.jsonl:3: 'rejected' must be a non-empty string"),
        ('{"prompt": "p", "chosen": 1, "rejected": "b"}', r"prefs.jsonl:3: 'chosen' must be a non-empty string"),
        ('{"prompt": "p", "chosen": "a", "rejected": "a"}', r"prefs.jsonl:3: 'chosen' and 'rejected' are the same"),
        (
            '{"prompt": "p", "chosen": "a", "rejected": "b", "severity": "cosmetic"}',
            r"prefs.jsonl:3: unknown severity 'cosmetic'",
        ),
    ],
)
def test_a_malformed_preference_row_is_named_by_file_and_line(tmp_path, bad_row, message):
    path = tmp_path / "prefs.jsonl"
    write_preferences(path, [preference_rows(1)[0], "", bad_row])  # line 2 is blank
    with pytest.raises(JsonlError, match=message):
        read_preferences(path, SEVERITY)


def test_too_few_preferences_skip_training(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = RewardFitParams()
    write_preferences(settings.preferences, preference_rows(1))
    result = fit_reward_model(read_expert_preferences(settings, SEVERITY), settings, SEVERITY)
    assert result == {"status": "skipped", "reason": "1 preference pair(s) in data/feedback/preferences.jsonl, need 2"}
    assert reward_model.read_preferences(settings.preferences, SEVERITY)[0].severity == "syntax"
