"""Bug severity tiers and their reward weights (the industrial project's tiered rewards, seed 000).

A wrong solution's tier is, first found: the reviewers' tier (`review-export` writes
`data/feedback/severity.jsonl`), `security` when its execution showed a security-relevant failure
(`feedback.severity`), else its execution status through `reward_fit.severity_tiers`. The tier's
weight in `reward_fit.severity_weights` scales what a fix earns: only a positive reward is scaled;
a penalty stays as it is, so a hard bug is never riskier to attempt than an easy one
(docs/rewards.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledex.execution.feedback import SECURITY
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.jsonl import JsonlError, numbered_jsonl
from ledex.pipeline.records import Execution


def weighted(reward: float, weight: float) -> float:
    """A reward scaled by its bug's tier weight: a positive one (a fix earns) scales, a penalty does not.

    >>> weighted(4.0, 1.5), weighted(-4.0, 1.5)
    (6.0, -4.0)
    """
    return weight * reward if reward > 0 else reward


def read_reviewed_tiers(path: Path, weights: Mapping[str, float]) -> dict[str, str]:
    """{wrong solution id: the reviewers' tier}; empty when there is no file."""
    if not path.exists():
        return {}
    tiers = {}
    for number, row in numbered_jsonl(path):
        if not isinstance(row.get("sample_id"), str) or row.get("severity") not in weights:
            raise JsonlError(f"{path}:{number}: need a 'sample_id' and a 'severity' among {', '.join(weights)}")
        tiers[row["sample_id"]] = row["severity"]
    return tiers


@dataclass(frozen=True)
class SeverityWeights:
    tiers: Mapping[str, str]  # execution status -> tier
    weights: Mapping[str, float]  # tier -> reward weight
    reviewed: Mapping[str, str] = field(default_factory=dict)  # wrong solution id -> the reviewers' tier

    @classmethod
    def from_params(cls, params: RewardFitParams, reviewed: Path | None = None) -> SeverityWeights:
        """The configured tiers and weights, with the reviewers' tiers from `reviewed` when given."""
        overrides = {} if reviewed is None else read_reviewed_tiers(reviewed, params.severity_weights)
        return cls(params.severity_tiers, params.severity_weights, overrides)

    def tier(self, status: str) -> str:
        """The tier of a failing execution status; a passing or unknown status is an error."""
        if status not in self.tiers:
            raise ValueError(f"execution status {status!r} has no severity tier (reward_fit.severity_tiers)")
        return self.tiers[status]

    def tier_of(self, wrong: Execution) -> str:
        """The tier of wrong solution `wrong`: the reviewers', else security, else by its status."""
        if wrong.sample_id in self.reviewed:
            return self.reviewed[wrong.sample_id]
        if wrong.severity == SECURITY and SECURITY in self.weights:
            return SECURITY
        return self.tier(wrong.status)

    def weight(self, tier: str) -> float:
        if tier not in self.weights:
            raise ValueError(f"severity tier {tier!r} has no weight (reward_fit.severity_weights)")
        return self.weights[tier]
