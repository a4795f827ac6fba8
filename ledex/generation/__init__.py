"""Text generation behind one interface; `make_generator` picks the backend by name.

Backends are imported on demand, so the HTTP client never loads torch and vLLM and OpenVINO stay optional.
"""

from __future__ import annotations

from ledex.generation.interface import (
    GenerationRequest,
    Generator,
    SamplingParams,
    encode_request,
    truncate_at_stop,
)

BACKENDS = ("transformers", "openvino", "openai", "vllm")


def make_generator(backend: str, model: str, **options) -> Generator:
    """A generator for `model` (a preset, checkpoint path or Hub id; for "openai", the served name)."""
    if backend == "transformers":
        from ledex.generation.transformers_backend import TransformersGenerator

        return TransformersGenerator(model, **options)
    if backend == "openvino":
        from ledex.generation.openvino_backend import OpenVINOGenerator

        return OpenVINOGenerator(model, **options)
    if backend == "openai":
        from ledex.generation.openai_backend import OpenAIGenerator

        return OpenAIGenerator(model, **options)
    if backend == "vllm":
        from ledex.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(model, **options)
    raise ValueError(f"unknown generation backend {backend!r}; expected one of {BACKENDS}")


__all__ = [
    "BACKENDS",
    "GenerationRequest",
    "Generator",
    "SamplingParams",
    "encode_request",
    "make_generator",
    "truncate_at_stop",
]
