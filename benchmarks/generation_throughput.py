"""Generation throughput and quality per engine: fp32 and bf16 transformers, and OpenVINO GenAI.

Every engine completes the same HumanEval chat prompts, sampled (n texts each, T=0.8, seeded),
and reports tokens per second, its ratio to fp32 transformers (the pipeline's old default), and
the fraction of this machine's bf16 matmul ceiling it reaches: a bf16 torch matmul is timed
here before each engine, and a generated token costs about 2 x parameters FLOPs. Each engine then solves the first
`--quality-problems` HumanEval problems greedily; the sandbox counts those that pass.

    python -m benchmarks.generation_throughput [--prompts 32 --n 4 --max-new-tokens 256]
        [--openvino-weights int8 fp16] [--quality-problems 20 --quality-max-new-tokens 384]

Rates are wall-clock, so other jobs lower them: the 1-minute load average is printed. The first
OpenVINO run of a checkpoint exports it (minutes; cached after). Ends with one JSON line per engine.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass

import torch

from ledex.execution.jobs import model_job
from ledex.generation import GenerationRequest, Generator, SamplingParams, make_generator
from ledex.generation.prompts import SOLUTION_STOP, solve_messages
from ledex.generation.response_parsing import extract_code
from ledex.pipeline.config import load_params
from ledex.problems import Problem, load_benchmark
from sandbox import Sandbox


@dataclass(frozen=True)
class EngineResult:
    engine: str
    tok_s: float
    ratio_to_fp32: float
    ceiling_fraction: float
    greedy_passed: int
    greedy_problems: int


def bf16_matmul_flops(size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of a square bf16 matmul on this CPU, with every core torch uses."""
    a, b = torch.randn(size, size, dtype=torch.bfloat16), torch.randn(size, size, dtype=torch.bfloat16)
    a @ b  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def parameter_count(model: str) -> int:
    from transformers import AutoConfig, AutoModelForCausalLM

    from ledex.generation.models import resolve_model

    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(resolve_model(model)))
    return sum(parameter.numel() for parameter in skeleton.parameters())


def tokens_per_second(generator: Generator, tokenizer, requests: list[GenerationRequest], params: SamplingParams):
    """Generated tokens (the texts re-tokenized) per second of wall time."""
    start = time.perf_counter()
    texts = generator.generate(requests, params)
    elapsed = time.perf_counter() - start
    tokens = sum(len(tokenizer(text, add_special_tokens=False).input_ids) for samples in texts for text in samples)
    return tokens / elapsed


def greedy_passes(generator: Generator, problems: list[Problem], sandbox: Sandbox, max_new_tokens: int) -> int:
    requests = [GenerationRequest(messages=solve_messages(problem, shots=0)) for problem in problems]
    params = SamplingParams(temperature=0, max_new_tokens=max_new_tokens, stop=SOLUTION_STOP)
    texts = generator.generate(requests, params)
    jobs = [model_job(problem, extract_code(samples[0], problem.language)) for problem, samples in zip(problems, texts)]
    return sum(verdict.passed for verdict in sandbox.run_many(jobs))


def engines(args) -> dict[str, tuple[str, dict]]:
    """Engine label -> (backend, options)."""
    batch = args.prompts * args.n
    chosen = {
        "transformers fp32": ("transformers", {"batch_size": batch, "device": "cpu", "dtype": "float32"}),
        "transformers bf16": ("transformers", {"batch_size": batch, "device": "cpu", "dtype": "bfloat16"}),
    }
    for weights in args.openvino_weights:
        chosen[f"openvino {weights}"] = ("openvino", {"weight_format": weights})
    return {label: spec for label, spec in chosen.items() if label not in args.skip}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct")
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--openvino-weights", nargs="*", default=["int8", "fp16"], choices=["int8", "fp16", "fp32"])
    parser.add_argument("--quality-problems", type=int, default=20)
    parser.add_argument("--quality-max-new-tokens", type=int, default=384, help="answers restate the prompt first")
    parser.add_argument("--skip", nargs="*", default=[], help="engine labels to leave out, e.g. 'transformers fp32'")
    args = parser.parse_args()

    params = load_params()
    problems = load_benchmark("humaneval", data_dir=params.data.dir, source=params.data.source)
    requests = [GenerationRequest(messages=solve_messages(problem, shots=0)) for problem in problems[: args.prompts]]
    sampled = SamplingParams(n=args.n, temperature=0.8, max_new_tokens=args.max_new_tokens, stop=SOLUTION_STOP)
    flops_per_token = 2 * parameter_count(args.model)
    print(f"1-minute load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{len(requests)} prompts x n={args.n} x {args.max_new_tokens} new tokens")

    results, fp32_rate = [], None
    with Sandbox(params.sandbox) as sandbox:
        for label, (backend, options) in engines(args).items():
            generator = make_generator(backend, args.model, **options)
            tokenizer = generator.tokenizer
            generator.generate(requests[:1], SamplingParams(max_new_tokens=4))  # warm up kernels and caches
            ceiling = bf16_matmul_flops() / flops_per_token  # tok/s, timed beside each engine: load varies
            rate = tokens_per_second(generator, tokenizer, requests, sampled)
            fp32_rate = fp32_rate or (rate if label == "transformers fp32" else None)
            passed = greedy_passes(generator, problems[: args.quality_problems], sandbox, args.quality_max_new_tokens)
            result = EngineResult(
                engine=label,
                tok_s=round(rate, 1),
                ratio_to_fp32=round(rate / fp32_rate, 2) if fp32_rate else float("nan"),
                ceiling_fraction=round(rate / ceiling, 3),
                greedy_passed=passed,
                greedy_problems=args.quality_problems,
            )
            results.append(result)
            print(
                f"{label:20s} {rate:7.1f} tok/s  x{result.ratio_to_fp32:<6} "
                f"{result.ceiling_fraction:6.1%} of a {ceiling:.0f} tok/s ceiling  "
                f"greedy HumanEval {passed}/{args.quality_problems}  (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )
            del generator
    print(f"1-minute load average at end: {os.getloadavg()[0]:.1f}")
    for result in results:
        print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
