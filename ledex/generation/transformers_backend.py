"""Batched generation in process with a Hugging Face model, on CPU or CUDA."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import DynamicCache, StoppingCriteria, StoppingCriteriaList

from ledex.generation.interface import GenerationRequest, SamplingParams, encode_request, truncate_at_stop
from ledex.generation.models import load_model_and_tokenizer
from ledex.generation.precision import compute_dtype


class StopOnStrings(StoppingCriteria):
    """Finish each row as soon as its generated text contains a stop string."""

    def __init__(self, tokenizer, stop: Sequence[str], prompt_length: int):
        self.tokenizer = tokenizer
        self.stop = stop
        self.prompt_length = prompt_length
        # every token holds at least one byte, so a stop string ends within this many last tokens
        self.window = max(len(s.encode()) for s in stop) + 1

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        start = max(self.prompt_length, input_ids.shape[1] - self.window)
        tails = self.tokenizer.batch_decode(input_ids[:, start:], skip_special_tokens=True)
        return torch.tensor([any(s in tail for s in self.stop) for tail in tails], device=input_ids.device)


class TransformersGenerator:
    """Generates with a local model: requests sorted by length, left-padded into micro-batches.

    `batch_size` counts sequences decoded together, so a micro-batch holds `batch_size // n`
    requests (at least one). `dtype` "auto" computes in bf16 where the device is fast at it, else
    fp32. Sampling is seeded once per `generate` call: the same requests and params give the same texts.
    """

    def __init__(self, model: str, batch_size: int = 16, device: str = "auto", dtype: str | torch.dtype = "auto"):
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if isinstance(dtype, str):  # "auto" or "bfloat16" from params.yaml
            dtype = compute_dtype(device, dtype)
        self.model, self.tokenizer = load_model_and_tokenizer(model, device=device, dtype=dtype)
        self.batch_size = batch_size

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[str]]:
        token_ids = [encode_request(self.tokenizer, request) for request in requests]
        longest_first = sorted(range(len(requests)), key=lambda i: len(token_ids[i]), reverse=True)
        requests_per_batch = max(1, self.batch_size // params.n)
        torch.manual_seed(params.seed)
        texts: list[list[str]] = [[] for _ in requests]
        for start in range(0, len(longest_first), requests_per_batch):
            batch = longest_first[start : start + requests_per_batch]
            for i, samples in zip(batch, self._generate_batch([token_ids[i] for i in batch], params)):
                texts[i] = samples
        return texts

    @torch.inference_mode()
    def _generate_batch(self, token_ids: list[list[int]], params: SamplingParams) -> list[list[str]]:
        inputs = self.tokenizer.pad({"input_ids": token_ids}, return_tensors="pt").to(self.model.device)
        prompt_length = inputs["input_ids"].shape[1]
        greedy = params.temperature == 0
        copies = 1 if greedy else params.n
        stop_on_strings = [StopOnStrings(self.tokenizer, params.stop, prompt_length)] if params.stop else []
        # only temperature and top_p shape sampling, whatever defaults the checkpoint's generation_config has
        sampling = {"do_sample": True, "temperature": params.temperature, "top_p": params.top_p, "top_k": 0}
        output = self.model.generate(
            input_ids=inputs["input_ids"].repeat_interleave(copies, dim=0),
            attention_mask=inputs["attention_mask"].repeat_interleave(copies, dim=0),
            past_key_values=self._prefill(inputs["input_ids"], inputs["attention_mask"], copies),
            **({"do_sample": False} if greedy else sampling),
            repetition_penalty=1.0,
            max_new_tokens=params.max_new_tokens,
            stopping_criteria=StoppingCriteriaList(stop_on_strings),
            pad_token_id=self.tokenizer.pad_token_id,
        )
        decoded = self.tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)
        decoded = [truncate_at_stop(text, params.stop) for text in decoded]
        if greedy:
            return [[text] * params.n for text in decoded]
        return [decoded[i : i + params.n] for i in range(0, len(decoded), params.n)]

    def _prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, copies: int) -> DynamicCache | None:
        """The KV cache of every prompt but its last token, computed once and repeated for its
        `copies` samples (`generate` with num_return_sequences would run the prompt n times);
        `generate` then feeds only the last token. None for one-token prompts."""
        if input_ids.shape[1] < 2:
            return None
        cache = DynamicCache(config=self.model.config)
        mask = attention_mask[:, :-1]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: positions count real tokens
        self.model(
            input_ids=input_ids[:, :-1],
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,  # only the cache is wanted: no (batch, prompt, vocab) logits
        )
        cache.batch_repeat_interleave(copies)
        return cache
