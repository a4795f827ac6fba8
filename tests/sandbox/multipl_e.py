"""Real MultiPL-E problems for the language tests: correct completions pass, raising ones fail."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox import Job, Sandbox, Status

DATA = Path(__file__).parents[2] / ".." / "shared" / "data" / "multipl-e"


def path(language: str) -> Path:
    return DATA / f"humaneval-{language}-reworded.jsonl"


def assert_correct_pass_and_raising_fail(
    sandbox: Sandbox, language: str, completions: dict[str, str], raising: str, raised: str
) -> None:
    """Each problem's prompt + completion passes; with `raising` before the completion, each
    fails as a runtime error whose message names `raised`."""
    problems = {row["name"]: row for row in map(json.loads, path(language).read_text().splitlines())}
    jobs = [
        Job(language, problems[key]["prompt"] + prefix + completion, test_program=problems[key]["tests"])
        for prefix in ("", raising)
        for key, completion in completions.items()
    ]
    verdicts = sandbox.run_many(jobs)
    correct, broken = verdicts[: len(completions)], verdicts[len(completions) :]
    assert all(verdict.passed for verdict in correct), [verdict.message for verdict in correct]
    assert all(verdict.status is Status.RUNTIME_ERROR for verdict in broken)
    assert all(raised in verdict.message for verdict in broken)
