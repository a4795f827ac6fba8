"""Generation in process with vLLM's offline engine (CUDA machines with `pip install vllm`)."""

from __future__ import annotations

from collections.abc import Sequence

try:
    import vllm
except ImportError as error:
    raise ImportError("the vllm backend needs vLLM and a CUDA GPU: pip install vllm") from error

from ledex.generation.interface import GenerationRequest, SamplingParams, encode_request, truncate_at_stop
from ledex.generation.models import resolve_model


class VLLMGenerator:
    """All requests go to the engine at once; it schedules them. Request i is sampled with seed + i."""

    def __init__(
        self,
        model: str,
        dtype: str = "bfloat16",
        gpu_memory_utilization: float = 0.85,
        tensor_parallel_size: int = 1,
        max_model_len: int | None = None,
        engine_options: dict | None = None,  # any other `vllm.LLM` argument
    ):
        self.engine = vllm.LLM(
            model=str(resolve_model(model)),
            dtype=dtype,
            gpu_memory_utilization=gpu_memory_utilization,
            tensor_parallel_size=tensor_parallel_size,
            max_model_len=max_model_len,
            **(engine_options or {}),
        )
        self.tokenizer = self.engine.get_tokenizer()

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[str]]:
        greedy = params.temperature == 0
        prompts = [{"prompt_token_ids": encode_request(self.tokenizer, request)} for request in requests]
        sampling = [
            vllm.SamplingParams(
                n=1 if greedy else params.n,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                stop=list(params.stop),
                seed=params.seed + i,
            )
            for i in range(len(requests))
        ]
        outputs = self.engine.generate(prompts, sampling)
        texts = [[truncate_at_stop(sample.text, params.stop) for sample in output.outputs] for output in outputs]
        return [samples * params.n if greedy else samples for samples in texts]
