"""Bug severity tiers and their reward weights (the industrial project's tiered rewards).

A wrong solution's tier follows from its execution status through `reward_fit.severity_tiers`
(by default `feedback.SEVERITY_BY_STATUS`: syntax, runtime, resource, wrong_answer); the tier's
weight in `reward_fit.severity_weights` scales the rewards for refining it, so fixing a bug that
is hard to diagnose earns more than fixing a typo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ledex.pipeline.config import RewardFitParams


@dataclass(frozen=True)
class SeverityWeights:
    tiers: Mapping[str, str]  # execution status -> tier
    weights: Mapping[str, float]  # tier -> reward weight

    @classmethod
    def from_params(cls, params: RewardFitParams) -> SeverityWeights:
        return cls(params.severity_tiers, params.severity_weights)

    def tier(self, status: str) -> str:
        """The tier of a failing execution status; a passing or unknown status is an error."""
        if status not in self.tiers:
            raise ValueError(f"execution status {status!r} has no severity tier (reward_fit.severity_tiers)")
        return self.tiers[status]

    def weight(self, tier: str) -> float:
        if tier not in self.weights:
            raise ValueError(f"severity tier {tier!r} has no weight (reward_fit.severity_weights)")
        return self.weights[tier]
