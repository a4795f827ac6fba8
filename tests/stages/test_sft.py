"""Stage `sft` end to end on a tiny random Qwen2: merged checkpoint, masked batches, resumption."""

from __future__ import annotations

import json
from dataclasses import replace

import mlflow
import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTTrainer

from ledex.pipeline.config import load_params
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.stage_io import write_problems
from ledex.pipeline.tracking import EXPERIMENT
from ledex.training.sft_data import IGNORE_INDEX
from stages import sft
from tests.ledex.training.test_sft_data import CORRECT, PROBLEM, VERIFIED, WRONG

SETTINGS = {
    "method": "lora",
    "epochs": 1,
    "learning_rate": 1e-2,
    "batch_size": 2,
    "micro_batch_size": 1,
    "warmup_steps": 0,
    "max_length": 512,
    "lora_r": 4,
    "lora_alpha": 8,
    "save_steps": 1,
}


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory):
    """One MLflow store for the module (creating its tables takes seconds), artifacts beside it."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.create_experiment(EXPERIMENT, artifact_location=(root / "mlruns").as_uri())
    yield uri
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def workdir(tmp_path, monkeypatch, tiny_qwen2_checkpoint, tracking_uri):
    """Problems, correct, wrong and verified files: 1 solve, 3 refine and 1 explain_refine example."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDEX_PARENT_RUN_ID", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    write_params(tmp_path, tiny_qwen2_checkpoint)
    (tmp_path / "data/sample").mkdir(parents=True)
    (tmp_path / "data/execute_filter").mkdir(parents=True)
    (tmp_path / "data/verify").mkdir(parents=True)
    write_problems([PROBLEM])
    write_jsonl(sft.CORRECT, (row.to_dict() for row in CORRECT))
    write_jsonl(sft.WRONG, (row.to_dict() for row in WRONG))
    distinct_fixes = [
        VERIFIED[0],
        replace(VERIFIED[1], code="def add(a, b):\n    return b + a"),
        replace(VERIFIED[2], code="def add(a, b):\n    return sum((a, b))"),
    ]
    write_jsonl(sft.VERIFIED, (row.to_dict() for row in distinct_fixes))
    return tmp_path


def write_params(directory, checkpoint, **overrides) -> None:
    params = {
        "models": {"policy": str(checkpoint)},
        "sft": {**SETTINGS, **overrides},
    }
    (directory / "params.yaml").write_text(yaml.safe_dump(params))


def weights(directory) -> dict[str, torch.Tensor]:
    return load_file(directory / "model.safetensors")


def test_trains_and_publishes_a_plain_merged_checkpoint(workdir, tiny_qwen2_checkpoint):
    sft.main()
    metrics = json.loads((workdir / "metrics/sft.json").read_text())
    assert metrics["examples"] == {"solve": 1, "refine": 3, "explain_refine": 1}
    assert metrics["duplicates"] == 0 and metrics["too_long"] == 0
    assert metrics["steps"] == 3 and metrics["resumed_from_step"] == 0  # ceil(5 examples / batch 2)
    assert metrics["train_loss"] > 0 and metrics["seconds_per_step"] > 0

    published = sorted(path.name for path in (workdir / "models/sft").iterdir())
    assert "adapter_config.json" not in published and "model.safetensors" in published
    assert "tokenizer.json" in published
    model = AutoModelForCausalLM.from_pretrained(workdir / "models/sft")  # loads plainly, no peft
    assert model.config.use_cache
    trained, base = weights(workdir / "models/sft"), weights(tiny_qwen2_checkpoint)
    assert trained.keys() == base.keys()
    changed = [name for name in base if not torch.equal(trained[name], base[name])]
    assert changed and all("proj" in name for name in changed)  # LoRA touched the linear layers only
    assert not sft.TRAINER_CHECKPOINTS.exists()


def test_full_fine_tuning_updates_the_embeddings_too(workdir, tiny_qwen2_checkpoint):
    write_params(workdir, tiny_qwen2_checkpoint, method="full")
    sft.main()
    trained, base = weights(workdir / "models/sft"), weights(tiny_qwen2_checkpoint)
    assert not torch.equal(trained["model.embed_tokens.weight"], base["model.embed_tokens.weight"])


def test_the_trainers_loss_covers_the_answers_only(workdir, tiny_qwen2_checkpoint):
    write_params(workdir, tiny_qwen2_checkpoint, micro_batch_size=2)  # padded batches
    params = load_params()
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen2_checkpoint)
    rows, _ = sft.training_examples(params, tokenizer)
    trainer = sft.build_trainer(params, tokenizer, rows, workdir / "trainer")
    expected = {tuple(row["input_ids"]): row["labels"] for row in rows}
    seen = 0
    for batch in trainer.get_train_dataloader():
        for ids, labels, mask in zip(batch["input_ids"], batch["labels"], batch["attention_mask"]):
            length = int(mask.sum())
            assert labels[:length].tolist() == expected[tuple(ids[:length].tolist())]
            assert (labels[length:] == IGNORE_INDEX).all()
            answer = tokenizer.decode(labels[labels != IGNORE_INDEX])
            assert answer.startswith(("```python\n", "Explanation: ")) and answer.endswith("```<|im_end|>")
            seen += 1
        with torch.no_grad():  # the trainer's loss: the mean over the labelled (answer) tokens only
            logits = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            answer_only = torch.nn.functional.cross_entropy(
                logits[:, :-1].flatten(0, 1), batch["labels"][:, 1:].flatten(), ignore_index=IGNORE_INDEX
            )
            assert torch.allclose(trainer.compute_loss(trainer.model, batch), answer_only, atol=1e-5)
    assert seen == len(rows) == 5


def run_killed_at(micro_batch: int, monkeypatch) -> None:
    """Run the stage, killed as it starts the given micro-batch (two micro-batches per step)."""
    real_step = SFTTrainer.training_step
    calls = {"n": 0}

    def killed(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == micro_batch:
            raise KeyboardInterrupt("killed")
        return real_step(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(SFTTrainer, "training_step", killed)
        with pytest.raises(KeyboardInterrupt):
            sft.main()


def test_a_killed_run_resumes_only_checkpoints_of_its_own_inputs(workdir, tiny_qwen2_checkpoint, monkeypatch):
    run_killed_at(3, monkeypatch)
    assert (sft.TRAINER_CHECKPOINTS / "checkpoint-1").is_dir()

    write_params(workdir, tiny_qwen2_checkpoint, learning_rate=5e-3)  # other settings: start over
    sft.main()
    assert json.loads((workdir / "metrics/sft.json").read_text())["resumed_from_step"] == 0
    uninterrupted = weights(workdir / "models/sft")

    run_killed_at(5, monkeypatch)  # steps 1 and 2 are done and saved
    assert (sft.TRAINER_CHECKPOINTS / "checkpoint-2").is_dir()
    sft.main()
    metrics = json.loads((workdir / "metrics/sft.json").read_text())
    assert metrics["resumed_from_step"] == 2 and metrics["steps"] == 3
    resumed = weights(workdir / "models/sft")
    assert all(torch.allclose(resumed[name], uninterrupted[name], atol=1e-6) for name in uninterrupted)


def test_long_conversations_are_left_out_before_the_cap(workdir, tiny_qwen2_checkpoint):
    write_params(workdir, tiny_qwen2_checkpoint, max_length=400, max_examples_per_format=2)
    tokenizer = AutoTokenizer.from_pretrained(tiny_qwen2_checkpoint)
    rows, counts = sft.training_examples(load_params(), tokenizer)
    assert counts["too_long"] == 1  # the explanation makes explain_refine the longest
    assert counts["examples"] == {"solve": 1, "refine": 2, "explain_refine": 0} and len(rows) == 3
    assert all(len(row["input_ids"]) <= 400 for row in rows)


def test_no_example_within_max_length_is_an_error(workdir, tiny_qwen2_checkpoint):
    write_params(workdir, tiny_qwen2_checkpoint, max_length=16)
    with pytest.raises(ValueError, match="no training examples within max_length=16"):
        sft.run(load_params())
