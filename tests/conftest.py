"""Fixtures shared across the test tree."""

from __future__ import annotations

import pytest

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
TOKENIZER_CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "def is_even(n):\n    return n % 2 == 0\n",
    "Write a function that reverses a string. Explain why the code is wrong.",
] * 20


def build_tiny_tokenizer(corpus=TOKENIZER_CORPUS, vocab_size: int = 320):
    """A byte-level BPE with ChatML special tokens and template, trained on a few lines of code
    (or on `corpus`, so that its texts take few tokens)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    backend.train_from_iterator(corpus, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=CHATML
    )


def save_tiny_qwen2(directory, tokenizer):
    """A randomly initialised two-layer Qwen2 causal LM sized to `tokenizer`, saved with it to `directory`."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        initializer_range=0.5,  # peaked logits, so greedy choices are not near-ties
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_qwen2_checkpoint(tmp_path_factory):
    """A randomly initialised two-layer Qwen2 causal LM with the tiny tokenizer, saved as a checkpoint."""
    return save_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2"), build_tiny_tokenizer())


@pytest.fixture(scope="module")
def registry_store(tmp_path_factory) -> str:
    """A fresh SQLite MLflow store with its artifacts beside it, set as the tracking (and registry)
    URI for the module; yields the URI."""
    import mlflow

    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(
        experiment_id=mlflow.create_experiment("registry-test", artifact_location=(root / "mlruns").as_uri())
    )
    yield uri
    mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def champion(registry_store, tiny_qwen2_checkpoint) -> str:
    """Version 1 of ledex-debugger, registered from the tiny checkpoint and given the champion alias."""
    import mlflow

    from ledex.evaluation.registry import promote, register

    with mlflow.start_run() as run:
        version = register(tiny_qwen2_checkpoint, "sft", run.info.run_id)
    promote(version, 0.5, "humaneval#p", 0.0)
    return version
