"""evaluate-samples resumes a killed run, and never reuses verdicts of another sandbox setup."""

from __future__ import annotations

import json

import pytest

from ledex.execution.evaluate_samples import evaluate_samples
from ledex.problems import load_benchmark
from sandbox import SandboxConfig

PROBLEMS = load_benchmark("humaneval", data_dir=None, source="local")[:2]


@pytest.fixture
def samples(tmp_path):
    path = tmp_path / "samples.jsonl"
    rows = [{"task_id": problem.id, "completion": f"    return {i}\n"} for problem in PROBLEMS for i in range(2)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


class Scorer:
    """Scores every sample as passed, counting what it was asked; dies after `die_after` when set."""

    def __init__(self, die_after: int | None = None):
        self.scored, self.die_after = 0, die_after

    def __call__(self, samples):
        for position, (row, _) in enumerate(samples):
            if self.scored == self.die_after:
                raise KeyboardInterrupt("killed")
            self.scored += 1
            yield position, {**row, "passed": True, "status": "passed", "result": "passed"}


def test_a_killed_run_resumes_with_the_unscored_samples_only(samples):
    config = SandboxConfig(timeout_s=5)
    with pytest.raises(KeyboardInterrupt):
        evaluate_samples(samples, PROBLEMS, [1], Scorer(die_after=3), config)
    rerun = Scorer()
    report = evaluate_samples(samples, PROBLEMS, [1], rerun, config)
    assert rerun.scored == 1 and report.samples == 4 and report.pass_at_k == {"pass@1": 1.0}


def test_verdicts_from_another_sandbox_config_are_scored_again(samples):
    with pytest.raises(KeyboardInterrupt):
        evaluate_samples(samples, PROBLEMS, [1], Scorer(die_after=3), SandboxConfig(timeout_s=5))
    rerun = Scorer()
    evaluate_samples(samples, PROBLEMS, [1], rerun, SandboxConfig(timeout_s=6))
    assert rerun.scored == 4
