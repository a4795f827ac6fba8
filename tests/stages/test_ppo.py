"""Stage `ppo` end to end: a tiny Qwen2 that learned to fix the toy bug, the real sandbox, a tiny learned
reward model trained on a preferences fixture, resumption."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
import yaml
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

from ledex.generation import GenerationRequest, encode_request
from ledex.generation.prompts import explain_refine_answer, fenced
from ledex.pipeline.checkpoint import FINGERPRINT_FILE
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import PPO_MODEL
from ledex.pipeline.stage_io import write_problems
from ledex.training.online_rewards import rl_prompts
from ledex.training.ppo_trainer import PPOTrainer
from stages import ppo
from tests.conftest import build_tiny_tokenizer
from tests.ledex.training.test_ppo_rewards import (
    EXPLANATION,
    FIXED_CODE,
    PROBLEM,
    PROBLEMS,
    VERIFIED,
    WRONG,
    train_tiny_reward_model,
)

SETTINGS = {
    "method": "full",
    "steps": 2,
    "batch_size": 2,
    "mini_batch_size": 1,
    "ppo_epochs": 2,
    "learning_rate": 1e-3,
    "max_new_tokens": 64,
    "checkpoint_every": 1,
    "timeout_s": 5,
}
ANSWERS = {
    "refine": fenced(FIXED_CODE, "python"),
    "explain_refine": explain_refine_answer(EXPLANATION, FIXED_CODE, "python"),
}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Models this small run fastest on one thread (two spin against each other on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sft_checkpoint(tmp_path_factory):
    return train_tiny_sft(tmp_path_factory.mktemp("sft"))


def train_tiny_sft(directory):
    """A tiny Qwen2 trained until it answers both RL prompts of the toy problem as the verified data does,
    so its samples hold code that the sandbox runs (a random model's would not parse)."""
    prompts = rl_prompts(PROBLEMS, WRONG, source="wrong.jsonl")
    template = build_tiny_tokenizer()
    rendered = [template.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True) for p in prompts]
    trained = build_tiny_tokenizer([text + ANSWERS[p.kind] for text, p in zip(rendered, prompts)] * 5, 400)
    config = Qwen2Config(
        vocab_size=len(trained),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        eos_token_id=trained.eos_token_id,
        pad_token_id=trained.pad_token_id,
    )
    trained.save_pretrained(directory)
    config.save_pretrained(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)  # the class the stage will get: it follows config.json
    examples = [
        (
            encode_request(tokenizer, GenerationRequest(messages=p.messages)),
            tokenizer(ANSWERS[p.kind]).input_ids + [tokenizer.eos_token_id],
        )
        for p in prompts
    ]
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / 200)
    for _ in range(200):
        for prompt, answer in examples:
            labels = torch.tensor([[-100] * len(prompt) + answer])
            model(input_ids=torch.tensor([prompt + answer]), labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        schedule.step()
    model.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def reward_model(tmp_path_factory, tiny_qwen2_checkpoint):
    """`reward-fit`'s output folder with a trained learned reward model."""
    directory = tmp_path_factory.mktemp("reward-fit")
    train_tiny_reward_model(directory, tiny_qwen2_checkpoint)
    return directory / "models/reward_model"


@pytest.fixture(scope="module")
def tracking_uri(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def prepare(directory, sft_checkpoint, tracking_uri, monkeypatch, reward_model=None) -> None:
    """The stage's inputs in `directory`, made the working directory; with `reward_model`, reward-fit's."""
    monkeypatch.chdir(directory)
    monkeypatch.delenv("LEDEX_PARENT_RUN_ID", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    (directory / "params.yaml").write_text(yaml.safe_dump({"ppo": SETTINGS}))
    shutil.copytree(sft_checkpoint, directory / "models/sft")
    if reward_model is not None:
        shutil.copytree(reward_model, directory / "models/reward_model")
    write_problems([PROBLEM])
    for path in (ppo.WRONG, ppo.VERIFIED):
        (directory / path).parent.mkdir(parents=True)
    write_jsonl(directory / ppo.WRONG, (row.to_dict() for row in WRONG))
    write_jsonl(directory / ppo.VERIFIED, (row.to_dict() for row in VERIFIED))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, sft_checkpoint, tracking_uri, reward_model):
    """A whole run with the learned reward model: its metrics and its published weights."""
    directory = tmp_path_factory.mktemp("uninterrupted")
    with pytest.MonkeyPatch.context() as monkeypatch:
        prepare(directory, sft_checkpoint, tracking_uri, monkeypatch, reward_model)
        ppo.main()
    return json.loads((directory / "metrics/ppo.json").read_text()), load_file(
        directory / "models/ppo/model.safetensors"
    )


def test_ppo_steps_with_online_rewards_and_changes_the_policy(uninterrupted, sft_checkpoint, tracking_uri):
    metrics, trained = uninterrupted
    assert metrics["steps"] == 2 and metrics["resumed_from_step"] == 0 and metrics["prompts"] == 2
    assert metrics["projection"]["source"].startswith("paper default")  # no data/reward_fit/projection.json
    final = metrics["final"]
    for name in (
        "reward_code",
        "reward_explanation",
        "kl",
        "value_loss",
        "policy_loss",
        "clip_fraction",
        "entropy",
        "reward_seconds",
        "step_seconds",
        "reward_fraction",
        "S_ut",
        "S_cb",
    ):
        assert name in final, name
    assert metrics["mean"]["S_ut"] > 0  # the sampled refinements ran, and passed, in the sandbox
    # every reward term for real: S_cb against references, R(e), the learned reward model
    assert metrics["prompt_mix"] == {
        "by_kind": {"refine/with_references": 1, "explain_refine/with_references": 1},
        "code_reference": {"verified": 2},
        "severity": {"wrong_answer": 2},
    }
    assert metrics["reward_model"]["used"] is True and metrics["reward_model"]["weight"] == 1.0
    assert metrics["responses"]["refine/with_S_cb"] > 0 and metrics["responses"]["explain_refine/with_R_e"] > 0
    for kind in ("refine", "explain_refine"):
        for name in ("S_cb", "S_ut", "R_r", "RM", "passed", "with_R_e", "with_S_cb"):
            assert f"{kind}/{name}" in metrics["mean"], (kind, name)
    assert "explain_refine/R_e" in metrics["mean"] and "RM" in final
    assert 0 < final["reward_fraction"] < 1 and final["entropy"] > 0

    sft = load_file(sft_checkpoint / "model.safetensors")
    assert trained.keys() == sft.keys()
    assert any(not torch.equal(trained[name], sft[name]) for name in sft)

    import mlflow

    runs = mlflow.search_runs(experiment_names=["ledex"], filter_string="tags.`ledex.stage` = 'ppo'")
    client = mlflow.MlflowClient(tracking_uri)
    history = client.get_metric_history(runs.iloc[-1].run_id, "kl")
    assert sorted(m.step for m in history) == [0, 1]
    plots = [artifact.path for artifact in client.list_artifacts(runs.iloc[-1].run_id, "ppo/rewards")]
    assert plots == ["ppo/rewards/step_0000.png", "ppo/rewards/step_0001.png"]


def test_a_killed_run_resumes_at_the_next_step_and_matches_an_uninterrupted_one(
    tmp_path, sft_checkpoint, tracking_uri, monkeypatch, uninterrupted, reward_model
):
    prepare(tmp_path, sft_checkpoint, tracking_uri, monkeypatch, reward_model)
    real_step = PPOTrainer.step
    calls = []

    def dies_in_the_second_step(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real_step(self, *args)

    monkeypatch.setattr(PPOTrainer, "step", dies_in_the_second_step)
    with pytest.raises(KeyboardInterrupt):
        ppo.main()
    assert ppo.CHECKPOINT.exists() and not PPO_MODEL.exists()

    monkeypatch.setattr(PPOTrainer, "step", real_step)
    ppo.main()
    metrics = json.loads((tmp_path / "metrics/ppo.json").read_text())
    assert metrics["resumed_from_step"] == 1 and metrics["steps"] == 2
    assert not ppo.TRAINER_CHECKPOINTS.exists()  # dropped once the model is published
    expected_metrics, expected = uninterrupted
    resumed = load_file(tmp_path / "models/ppo/model.safetensors")
    for name, tensor in expected.items():
        torch.testing.assert_close(resumed[name], tensor)
    assert metrics["final"]["reward_code"] == expected_metrics["final"]["reward_code"]
    AutoModelForCausalLM.from_pretrained(tmp_path / "models/ppo")  # a plain checkpoint


def test_changed_settings_discard_the_checkpoint_and_lora_publishes_merged_weights(
    tmp_path, sft_checkpoint, tracking_uri, monkeypatch
):
    prepare(tmp_path, sft_checkpoint, tracking_uri, monkeypatch)
    ppo.TRAINER_CHECKPOINTS.mkdir(parents=True)
    (ppo.TRAINER_CHECKPOINTS / FINGERPRINT_FILE).write_text("made with other settings")
    ppo.CHECKPOINT.write_bytes(b"not a checkpoint of these settings")
    lora = {**SETTINGS, "method": "lora", "lora_r": 4, "lora_alpha": 8, "steps": 1, "learning_rate": 1e-2}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"ppo": lora}))
    ppo.main()
    metrics = json.loads((tmp_path / "metrics/ppo.json").read_text())
    assert metrics["resumed_from_step"] == 0 and metrics["steps"] == 1 and metrics["method"] == "lora"
    assert metrics["reward_model"] == {"used": False, "weight": 0.0, "reason": "no models/reward_model/status.json"}
    assert "RM" not in metrics["final"]
    published = sorted(path.name for path in (tmp_path / "models/ppo").iterdir())
    assert "adapter_config.json" not in published and "tokenizer.json" in published
    trained, sft = load_file(tmp_path / "models/ppo/model.safetensors"), load_file(sft_checkpoint / "model.safetensors")
    assert trained.keys() == sft.keys()  # merged: the base model's own weight names
    changed = [name for name in sft if not torch.equal(trained[name], sft[name])]
    assert changed and all("proj" in name for name in changed)  # only LoRA-adapted linear layers moved


def test_with_references_leaves_out_wrong_solutions_without_verified_refinements(
    tmp_path, sft_checkpoint, tracking_uri, monkeypatch
):
    prepare(tmp_path, sft_checkpoint, tracking_uri, monkeypatch)
    write_jsonl(tmp_path / ppo.VERIFIED, [])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"ppo": {**SETTINGS, "prompts": "with_references"}}))
    with pytest.raises(ValueError, match="ppo.prompts=with_references: none of the 2 prompts"):
        ppo.main()
