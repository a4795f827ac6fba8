"""The attempt cache: what keys an entry, and what a hit gives back."""

from ledex.evaluation.attempt_cache import AttemptCache, batch_layout, checkpoint_digest, evaluation_protocol
from ledex.generation.models import CACHE_ENV_VAR
from ledex.pipeline.checkpoint import directory_digest
from ledex.pipeline.config import EvaluateParams
from ledex.problems import Problem

SETS = {"he": [Problem(id="p1", benchmark="he", language="python", prompt="", entry_point="f", test_program="")]}
GENERATION = {"backend": "transformers", "options": {"batch_size": 8}}


def protocol(**settings) -> str:
    return evaluation_protocol(EvaluateParams(**{"n": 2, "ks": [1], **settings}), GENERATION, "sandbox-1", SETS)


def test_the_protocol_changes_with_what_shapes_the_attempts_only():
    assert protocol() == protocol(ks=[1, 2], promotion_margin=0.5, bootstrap_samples=200, promotion_requires_ci=True)
    changed = [protocol(temperature=0.2), protocol(rounds=1), protocol(seed=1), protocol(problems_per_batch=1)]
    assert protocol() not in changed and len(set(changed)) == 4
    assert evaluation_protocol(EvaluateParams(n=2, ks=[1]), GENERATION, "sandbox-2", SETS) != protocol()


def test_reordering_the_sets_changes_the_protocol():
    """Batches take the sets' problems in order, so another order puts other problems in a batch."""
    java = [Problem(id="j1", benchmark="java", language="java", prompt="", entry_point="f", test_program="")]
    cfg = EvaluateParams(n=2, ks=[1])
    first, second = ({"he": SETS["he"], "java": java}, {"java": java, "he": SETS["he"]})
    assert batch_layout(first) == [("he", "p1"), ("java", "j1")]
    assert evaluation_protocol(cfg, GENERATION, "sandbox-1", first) != evaluation_protocol(
        cfg, GENERATION, "sandbox-1", second
    )


def test_a_stored_entry_comes_back_under_the_new_label(tmp_path):
    cache = AttemptCache(tmp_path / "cache", protocol())
    assert cache.load("digest-a", "sft") is None
    cache.store("digest-a", {"batch-0": [{"model": "ppo", "problem_id": "p1"}]})
    assert cache.load("digest-a", "champion v1") == {"batch-0": [{"model": "champion v1", "problem_id": "p1"}]}
    assert AttemptCache(tmp_path / "cache", protocol(seed=3)).load("digest-a", "sft") is None
    assert [path.suffix for path in (tmp_path / "cache").iterdir()] == [".json"]  # no partial file left


def test_the_digest_is_of_the_files_the_model_generates_from(tmp_path, monkeypatch):
    checkpoint = tmp_path / "sft"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    assert checkpoint_digest(str(checkpoint), "transformers") == directory_digest(checkpoint)
    preset = tmp_path / "presets" / "qwen2.5-coder-0.5b-instruct"  # an already converted preset
    preset.mkdir(parents=True)
    (preset / "config.json").write_text('{"preset": true}')
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "presets"))
    assert checkpoint_digest("qwen2.5-coder-0.5b-instruct", "transformers") == directory_digest(preset)
    assert checkpoint_digest("qwen2.5-coder-0.5b-instruct", "openai") is None  # what the server serves is unknown
    assert checkpoint_digest("owner/model", "transformers") is None
