"""`models:/` references resolved from a file-based registry holding a tiny registered debugger."""

from __future__ import annotations

import pytest

from ledex.generation import registered_models
from ledex.generation.models import load_model_and_tokenizer, resolve_model
from ledex.generation.registered_models import RegistryError, aliased_version
from ledex.pipeline.checkpoint import directory_digest


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDEX_MODEL_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_champion_resolves_to_its_checkpoint_downloaded_once(
    champion, registry_store, tiny_qwen2_checkpoint, cache
):
    checkpoint = resolve_model("models:/ledex-debugger@champion", registry_store)

    assert checkpoint.parent == cache / "registry" / "ledex-debugger" and checkpoint.name.startswith("1-")
    assert directory_digest(checkpoint) == directory_digest(tiny_qwen2_checkpoint)
    assert resolve_model("models:/ledex-debugger/1") == checkpoint  # by number; MLflow's current store by default
    assert [p.name for p in checkpoint.parent.iterdir() if p.is_dir()] == [checkpoint.name]  # no scratch left
    model, tokenizer = load_model_and_tokenizer("models:/ledex-debugger@champion", device="cpu")
    assert model.config.num_hidden_layers == 2 and tokenizer.padding_side == "left"


def test_a_resolved_version_is_not_downloaded_again(champion, registry_store, cache, monkeypatch):
    first = resolve_model("models:/ledex-debugger/1", registry_store)

    def no_download(*args):
        raise AssertionError("downloaded again")

    monkeypatch.setattr(registered_models, "_download", no_download)
    assert resolve_model("models:/ledex-debugger@champion", registry_store) == first


def test_what_the_registry_does_not_hold_is_named(champion, registry_store, cache):
    assert aliased_version("ledex-debugger", "champion", registry_store) == champion
    assert aliased_version("ledex-debugger", "canary", registry_store) is None
    assert aliased_version("no-such-model", "champion", registry_store) is None
    with pytest.raises(RegistryError, match="ledex-debugger has no version with alias 'canary'"):
        resolve_model("models:/ledex-debugger@canary", registry_store)
    with pytest.raises(RegistryError, match=r"models:/ledex-debugger/9: .*not found"):
        resolve_model("models:/ledex-debugger/9", registry_store)
    with pytest.raises(RegistryError, match="is not models:/<name>/<version>"):
        resolve_model("models:/ledex-debugger", registry_store)
