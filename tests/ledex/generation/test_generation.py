"""The transformers backend on a tiny random Qwen2 model, and the real 0.5B preset when present."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from ledex.generation import GenerationRequest, SamplingParams, encode_request, make_generator, truncate_at_stop
from ledex.generation.models import unavailable_reason
from ledex.generation.transformers_backend import StopOnStrings

PROMPTS = [
    GenerationRequest(prompt="def add(a, b):\n"),
    GenerationRequest(prompt="Write a function that reverses a string and explains why the code is wrong"),
    GenerationRequest(messages=[{"role": "user", "content": "Explain why"}]),
    GenerationRequest(prompt="def"),
    GenerationRequest(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Reverse it"}]),
]


@pytest.fixture(scope="module")
def generator(tiny_qwen2_checkpoint):
    return make_generator("transformers", str(tiny_qwen2_checkpoint), batch_size=4, device="cpu")


def test_batched_greedy_equals_one_by_one(generator):
    greedy = SamplingParams(temperature=0, max_new_tokens=12)
    batched = generator.generate(PROMPTS, greedy)  # micro-batches of 4 and 1, longest first
    one_by_one = [generator.generate([request], greedy)[0] for request in PROMPTS]
    assert batched == one_by_one
    assert all(len(texts) == 1 and texts[0] for texts in batched)


def test_prompts_prefilled_once_decode_as_plain_generate(generator):
    """The shared, repeated prompt cache changes nothing: greedy tokens equal `model.generate`'s."""
    greedy = SamplingParams(n=2, temperature=0, max_new_tokens=12)
    ours = generator.generate(PROMPTS, greedy)
    tokenizer = generator.tokenizer
    for request, texts in zip(PROMPTS, ours):
        ids = torch.tensor([encode_request(tokenizer, request)])
        plain = generator.model.generate(ids, do_sample=False, max_new_tokens=12, pad_token_id=tokenizer.pad_token_id)
        assert texts == [tokenizer.decode(plain[0, ids.shape[1] :], skip_special_tokens=True)] * 2


def test_greedy_returns_n_identical_texts(generator):
    texts = generator.generate(PROMPTS[:2], SamplingParams(n=3, temperature=0, max_new_tokens=6))
    assert [len(set(samples)) for samples in texts] == [1, 1]
    assert [len(samples) for samples in texts] == [3, 3]


def test_same_seed_same_samples_and_another_seed_differs(generator):
    params = SamplingParams(n=3, temperature=1.0, max_new_tokens=10, seed=7)
    first = generator.generate(PROMPTS, params)
    assert generator.generate(PROMPTS, params) == first
    assert generator.generate(PROMPTS, SamplingParams(n=3, temperature=1.0, max_new_tokens=10, seed=8)) != first
    assert all(len(samples) == 3 for samples in first)
    assert all(len(set(samples)) > 1 for samples in first)  # n distinct samples, not one repeated


def test_stop_string_cuts_text_before_it(generator):
    request = [PROMPTS[0]]
    free = generator.generate(request, SamplingParams(temperature=0, max_new_tokens=16))[0][0]
    stop = free[len(free) // 2 : len(free) // 2 + 2]
    stopped = generator.generate(request, SamplingParams(temperature=0, max_new_tokens=16, stop=(stop,)))[0][0]
    assert stopped == free[: free.find(stop)]


def test_stop_criterion_finishes_only_rows_that_emitted_a_stop_string(generator):
    tokenizer = generator.tokenizer
    prompt = tokenizer("def add").input_ids
    finished, running = (tokenizer(text).input_ids for text in ("(a, b):\n    return", "(a, b)"))
    running += [tokenizer.pad_token_id] * (len(finished) - len(running))
    input_ids = torch.tensor([prompt + finished, prompt + running])
    criterion = StopOnStrings(tokenizer, stop=("return", "add"), prompt_length=len(prompt))
    assert criterion(input_ids, scores=None).tolist() == [True, False]  # "add" is in the prompt only


def test_chat_request_is_the_rendered_template(generator):
    messages = [{"role": "user", "content": "Explain why"}]
    rendered = "<|im_start|>user\nExplain why<|im_end|>\n<|im_start|>assistant\n"
    token_ids = encode_request(generator.tokenizer, GenerationRequest(messages=messages))
    assert generator.tokenizer.decode(token_ids) == rendered
    greedy = SamplingParams(temperature=0, max_new_tokens=8)
    as_chat = generator.generate([GenerationRequest(messages=messages)], greedy)
    assert as_chat == generator.generate([GenerationRequest(prompt=rendered)], greedy)


def test_truncate_at_stop_uses_the_earliest_stop():
    assert truncate_at_stop("a\nif x\ndef f", ("\ndef", "\nif")) == "a"
    assert truncate_at_stop("no stop here", ("\ndef",)) == "no stop here"
    assert truncate_at_stop("text", ()) == "text"


def test_request_needs_exactly_one_of_messages_or_prompt():
    with pytest.raises(ValueError):
        GenerationRequest()
    with pytest.raises(ValueError):
        GenerationRequest(messages=[], prompt="x")


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="transformers"):
        make_generator("tgi", "model")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_backend_says_how_to_install_vllm():
    with pytest.raises(ImportError, match="pip install vllm"):
        make_generator("vllm", "qwen2.5-coder-0.5b-instruct")


@pytest.mark.real_model
def test_real_qwen_writes_code_for_a_chat_request():
    name = "qwen2.5-coder-0.5b-instruct"
    if reason := unavailable_reason(name):
        pytest.skip(reason)
    generator = make_generator("transformers", name)
    question = "Write a Python function add(a, b) returning a + b."
    request = GenerationRequest(messages=[{"role": "user", "content": question}])
    [[text]] = generator.generate([request], SamplingParams(temperature=0, max_new_tokens=48, stop=("\n```\n",)))
    assert "def add(a, b):" in text
