"""Generation through any OpenAI-compatible HTTP server: vLLM, TGI, llama.cpp, hosted APIs."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from ledex.generation.interface import GenerationRequest, SamplingParams, truncate_at_stop

RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
MAX_SERVER_STOPS = 4  # OpenAI's own API rejects more; the rest are applied to the returned text


class OpenAIGenerator:
    """Chat requests go to /chat/completions, raw prompts to /completions, `max_concurrency` at a time.

    Responses with a status in RETRYABLE_STATUS, dropped connections and timeouts are retried up
    to `max_retries` times, waiting `backoff_s`, then twice as long each time. A server that returns
    fewer than n choices (some ignore n) is asked again for the rest.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 8,
        timeout_s: float = 300.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
    ):
        self.model = model
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        api_key = os.environ.get(api_key_env)
        self.client = httpx.Client(
            base_url=base_url or os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1"),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=max_concurrency),
        )

    def generate(self, requests: Sequence[GenerationRequest], params: SamplingParams) -> list[list[str]]:
        with ThreadPoolExecutor(self.max_concurrency) as pool:
            return list(pool.map(lambda request: self._complete(request, params), requests))

    def _complete(self, request: GenerationRequest, params: SamplingParams) -> list[str]:
        chat = request.messages is not None
        texts: list[str] = []
        while len(texts) < params.n:
            body = {
                "model": self.model,
                "n": params.n - len(texts),
                "temperature": params.temperature,
                "top_p": params.top_p,
                "max_tokens": params.max_new_tokens,
                "seed": params.seed + len(texts),
                **({"messages": request.messages} if chat else {"prompt": request.prompt}),
                **({"stop": list(params.stop[:MAX_SERVER_STOPS])} if params.stop else {}),
            }
            choices = self._post("/chat/completions" if chat else "/completions", body)["choices"]
            if not choices:
                raise RuntimeError(f"{self.client.base_url} returned no choices")
            texts += [(choice["message"]["content"] or "") if chat else choice["text"] for choice in choices]
        return [truncate_at_stop(text, params.stop) for text in texts[: params.n]]

    def _post(self, path: str, body: dict) -> dict:
        for attempt in range(self.max_retries):
            try:
                response = self.client.post(path, json=body)
                if response.status_code not in RETRYABLE_STATUS:
                    break
            except httpx.TransportError:  # refused or dropped connections, timeouts
                pass
            time.sleep(self.backoff_s * 2**attempt)
        else:
            response = self.client.post(path, json=body)  # the last try: its errors are the caller's
        response.raise_for_status()
        return response.json()
