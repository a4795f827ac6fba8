"""The policy a cycle trains from: registry aliases pinned to versions, the base preset while there
is no champion, and what stages see of it. A file-based registry holds a tiny registered debugger."""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow import MlflowClient

from ledex.pipeline.checkpoint import directory_digest
from ledex.pipeline.config import ModelsParams, Params
from ledex.pipeline.lineage import POLICY_SOURCE_TAG, POLICY_TAG
from ledex.pipeline.paths import POLICY
from ledex.pipeline.policy import POLICY_ENV, Policy, current_policy, resolve_policy, use_policy

CHAMPION = "models:/ledex-debugger@champion"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project directory as the working directory, a fresh model cache, no policy override."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDEX_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(POLICY_ENV, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


def params(registry_store: str, policy: str = CHAMPION) -> Params:
    models = {"policy": policy, "base": "smollm2-135m-instruct"}
    return Params.model_validate({"models": models, "tracking": {"uri": registry_store}})


def test_the_first_cycle_falls_back_to_the_base_preset_and_says_so(registry_store, project):
    models = ModelsParams(policy="models:/new-debugger@champion", base="smollm2-135m-instruct")

    policy = resolve_policy(models, registry_store)

    assert policy == Policy(
        requested="models:/new-debugger@champion",
        model="smollm2-135m-instruct",
        source="base smollm2-135m-instruct (no new-debugger@champion yet)",
        fallback=True,
    )
    assert policy.parent == "base:smollm2-135m-instruct"


def test_an_alias_is_pinned_to_the_version_it_names(champion, registry_store, project, monkeypatch):
    pinned = resolve_policy(ModelsParams(policy=CHAMPION), registry_store)
    assert (pinned.model, pinned.source, pinned.fallback) == (
        f"models:/ledex-debugger/{champion}",
        f"ledex-debugger v{champion} (champion)",
        False,
    )
    assert pinned.parent == f"models:/ledex-debugger/{champion}"

    preset = resolve_policy(ModelsParams(), registry_store)
    assert (preset.model, preset.parent) == ("qwen2.5-coder-0.5b-instruct", "base:qwen2.5-coder-0.5b-instruct")

    monkeypatch.setenv(POLICY_ENV, CHAMPION)  # the flow's `policy` parameter
    assert resolve_policy(ModelsParams(), registry_store).model == pinned.model


def test_a_stage_loads_the_pinned_version_and_tags_its_run(
    champion, registry_store, tiny_qwen2_checkpoint, project, capsys
):
    with mlflow.start_run() as run:
        staged = use_policy(params(registry_store), "sample")

    checkpoint = staged.models.policy
    assert f"registry/ledex-debugger/{champion}-" in checkpoint
    assert directory_digest(checkpoint) == directory_digest(tiny_qwen2_checkpoint)
    assert staged.generation_for("sample").model == checkpoint  # what the backends are given
    tags = MlflowClient().get_run(run.info.run_id).data.tags
    assert tags[POLICY_TAG] == f"models:/ledex-debugger/{champion}"
    assert tags[POLICY_SOURCE_TAG] == f"ledex-debugger v{champion} (champion)"
    assert f"sample: policy ledex-debugger v{champion} (champion)" in capsys.readouterr().err


def test_the_base_preset_standing_in_is_a_warning(registry_store, project, capsys):
    staged = use_policy(params(registry_store, "models:/new-debugger@champion"), "sft")

    assert staged.models.policy == "smollm2-135m-instruct"
    assert "sft: warning: policy base smollm2-135m-instruct (no new-debugger@champion yet)" in capsys.readouterr().err


def test_stages_read_the_pin_of_the_policy_requested_now(registry_store, project):
    pinned = Policy(requested=CHAMPION, model="models:/ledex-debugger/7", source="ledex-debugger v7 (champion)")
    POLICY.parent.mkdir()
    POLICY.write_text(json.dumps(pinned.__dict__))

    assert current_policy(params(registry_store)) == pinned  # not resolved again: the cycle's pin holds
    assert current_policy(params(registry_store, "smollm2-135m-instruct")).model == "smollm2-135m-instruct"
