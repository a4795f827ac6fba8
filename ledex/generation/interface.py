"""What every generation backend takes and returns, whatever runs the model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt: chat `messages` (the model's chat template is applied) or a raw completion `prompt`."""

    messages: list[dict] | None = None
    prompt: str | None = None

    def __post_init__(self) -> None:
        if (self.messages is None) == (self.prompt is None):
            raise ValueError("a GenerationRequest needs exactly one of messages or prompt")


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. `temperature=0` is greedy decoding (its n texts are then identical)."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: tuple[str, ...] = ()
    seed: int = 0


class Generator(Protocol):
    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[str]]:
        """`params.n` texts per request, in request order, each cut before its first stop string."""
        ...


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut `text` before the earliest occurrence of any stop string."""
    cut = min((index for s in stop if (index := text.find(s)) != -1), default=len(text))
    return text[:cut]


def encode_request(tokenizer: PreTrainedTokenizerBase, request: GenerationRequest) -> list[int]:
    """Token ids for a request: chat messages through the chat template, a raw prompt as is."""
    if request.prompt is not None:
        return tokenizer(request.prompt).input_ids
    text = tokenizer.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False).input_ids  # the template writes its own specials
