"""The OpenVINO backend on a tiny random Qwen2 model exported once per session, and the real preset when present."""

from __future__ import annotations

import inspect

import pytest

pytest.importorskip("openvino_genai", reason="the openvino backend needs openvino-genai (pip install -e .[models])")

from ledex.generation import GenerationRequest, SamplingParams, make_generator, truncate_at_stop
from ledex.generation.models import CACHE_ENV_VAR, cache_dir, unavailable_reason
from ledex.generation.openvino_backend import OpenVINOGenerator
from ledex.pipeline.config import OpenVINOOptions

PROMPTS = [
    GenerationRequest(prompt="def add(a, b):\n"),
    GenerationRequest(messages=[{"role": "user", "content": "Explain why"}]),
    GenerationRequest(prompt="Write a function that reverses a string"),
]
MODEL_CACHE = cache_dir()  # where real presets are, before the tiny model's exports move the cache
SAMPLED = SamplingParams(n=3, temperature=1.0, max_new_tokens=16, seed=7)


@pytest.fixture(scope="session")
def openvino_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV_VAR, str(tmp_path_factory.mktemp("model-cache")))
        yield


@pytest.fixture(scope="session")
def generator(openvino_cache, tiny_qwen2_checkpoint):
    """fp32 weights, computation and cache, so greedy tokens can be compared with the transformers backend's."""
    return make_generator(
        "openvino",
        str(tiny_qwen2_checkpoint),
        weight_format="fp32",
        inference_precision="f32",
        kv_cache_precision="f32",
        cache_size_gb=1,
    )


def test_options_match_the_constructor():
    parameters = list(inspect.signature(OpenVINOGenerator).parameters)
    assert parameters == ["model", *OpenVINOOptions.model_fields]


def test_greedy_equals_the_transformers_backend(generator, tiny_qwen2_checkpoint):
    greedy = SamplingParams(n=2, temperature=0, max_new_tokens=12)
    reference = make_generator("transformers", str(tiny_qwen2_checkpoint), device="cpu", dtype="float32")
    ours = generator.generate(PROMPTS, greedy)
    assert ours == reference.generate(PROMPTS, greedy)
    assert all(len(texts) == 2 and texts[0] == texts[1] and texts[0] for texts in ours)


def test_sampling_gives_n_texts_reproducible_by_seed(generator):
    first = generator.generate(PROMPTS, SAMPLED)
    assert [len(texts) for texts in first] == [3, 3, 3]
    assert all(len(set(texts)) > 1 for texts in first)  # 16 random tokens from a random model never coincide
    assert generator.generate(PROMPTS, SAMPLED) == first
    other_seed = SamplingParams(n=3, temperature=1.0, max_new_tokens=16, seed=8)
    assert generator.generate(PROMPTS, other_seed) != first


def test_a_requests_texts_do_not_depend_on_the_others_in_the_call(generator):
    together = generator.generate(PROMPTS, SAMPLED)
    assert generator.generate(PROMPTS[:1], SAMPLED) == together[:1]
    assert generator.generate(PROMPTS[:2], SAMPLED) == together[:2]


def test_texts_end_before_the_first_stop_string(generator):
    free = generator.generate(PROMPTS, SamplingParams(temperature=0, max_new_tokens=24))
    stop = next(text[3:5] for (text,) in free if len(text) > 5)  # a stop string that occurs in some text
    stopped = generator.generate(PROMPTS, SamplingParams(temperature=0, max_new_tokens=24, stop=(stop,)))
    for (text,), (cut,) in zip(free, stopped, strict=True):
        assert cut == truncate_at_stop(text, (stop,))


def test_the_export_is_cached(generator, tiny_qwen2_checkpoint):
    from ledex.generation.openvino_export import openvino_export

    exported = openvino_export(tiny_qwen2_checkpoint, "fp32")
    stamp = (exported / "openvino_model.xml").stat().st_mtime_ns
    assert openvino_export(tiny_qwen2_checkpoint, "fp32") == exported
    assert (exported / "openvino_model.xml").stat().st_mtime_ns == stamp
    assert {path.name for path in exported.parent.iterdir() if not path.name.startswith(".")} == {exported.name}


@pytest.mark.real_model
@pytest.mark.slow
@pytest.mark.skipif(bool(reason := unavailable_reason("qwen2.5-coder-0.5b-instruct")), reason=reason or "")
def test_real_preset_writes_python(monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(MODEL_CACHE))
    generator = make_generator("openvino", "qwen2.5-coder-0.5b-instruct")
    request = GenerationRequest(messages=[{"role": "user", "content": "Write a Python function add(a, b)."}])
    [[text]] = generator.generate([request], SamplingParams(temperature=0, max_new_tokens=64))
    assert "def add" in text
