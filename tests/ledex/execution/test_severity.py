"""Severity tiers as seed 000 means them, and the reviewers' tiers over the pipeline's."""

from __future__ import annotations

import pytest

from ledex.execution.feedback import severity
from ledex.execution.severity import SeverityWeights, read_reviewed_tiers
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.jsonl import JsonlError, write_jsonl
from ledex.pipeline.records import Execution
from sandbox import Status, Verdict


def wrong(status: str, tier: str = "", sample_id: str = "p#s0") -> Execution:
    return Execution(
        sample_id=sample_id,
        problem_id="p",
        code="",
        passed=False,
        status=status,
        pass_rate=0.0,
        feedback="",
        severity=tier,
    )


def test_default_weights_rank_crashes_resources_and_security_above_wrong_answers_above_syntax():
    severity_weights = SeverityWeights.from_params(RewardFitParams())
    weight = {status: severity_weights.weight(severity_weights.tier(status)) for status in severity_weights.tiers}
    for severe in ("runtime_error", "timeout", "memory", "output_limit"):
        assert weight[severe] > weight["failed"] > weight["compile_error"]
    assert severity_weights.weight("security") >= max(weight.values())


def test_security_relevant_failure_and_reviewers_tiers_override_the_status(tmp_path):
    denied = Verdict(
        passed=False, status=Status.RUNTIME_ERROR, message="PermissionError: [Errno 1] Operation not permitted"
    )
    assert severity(denied) == "security"
    assert severity(Verdict(passed=False, status=Status.RUNTIME_ERROR, message="ZeroDivisionError")) == "runtime"
    path = tmp_path / "severity.jsonl"
    write_jsonl(path, [{"sample_id": "p#s1", "severity": "syntax"}])
    weights = SeverityWeights.from_params(RewardFitParams(), path)
    assert weights.tier_of(wrong("runtime_error", "security")) == "security"
    assert weights.tier_of(wrong("runtime_error", "runtime")) == "runtime"
    assert weights.tier_of(wrong("runtime_error", "security", sample_id="p#s1")) == "syntax"  # reviewers win
    assert read_reviewed_tiers(tmp_path / "absent.jsonl", {}) == {}
    write_jsonl(path, [{"sample_id": "p#s1", "severity": "trivial"}])
    with pytest.raises(JsonlError, match=r"severity.jsonl:1"):
        read_reviewed_tiers(path, RewardFitParams().severity_weights)
