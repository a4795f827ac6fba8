"""The confidence rule of the promotion gate: a candidate that passes the margin rule becomes the
champion only when the 95% CI of its paired delta (pass@1 Expl. + Refine on the promotion
benchmark) against the champion, or against the prompted base when there is no champion yet,
lies above zero. `ledex.evaluation.registry.promote` applies it when given `Evidence`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledex.evaluation.bootstrap import Interval


@dataclass(frozen=True)
class Evidence:
    """The candidate's paired delta against `reference` ("champion v3", "base prompting"); None when
    the reference has no per-problem results under this evaluation protocol."""

    reference: str
    delta: Interval | None


def describe(delta: Interval) -> str:
    """e.g. `+0.1250 (95% CI [+0.0500, +0.2000], 40 problems)`."""
    return f"{delta.value:+.4f} (95% CI [{delta.low:+.4f}, {delta.high:+.4f}], {delta.problems} problems)"


def confidence_rule(evidence: Evidence, margin_reason: str) -> tuple[bool, str]:
    """(promote?, reason) for a candidate the margin rule would promote, `margin_reason` saying why."""
    delta = evidence.delta
    if delta is None or delta.value is None or delta.low is None:
        return False, (
            f"CI rule: not promoted, {evidence.reference} has no per-problem results under this evaluation "
            f"protocol to pair with (margin rule: {margin_reason})"
        )
    if delta.low > 0:
        return (
            True,
            f"CI rule: the paired delta vs {evidence.reference} {describe(delta)} is above zero; {margin_reason}",
        )
    return False, (
        f"CI rule: not promoted, the paired delta vs {evidence.reference} {describe(delta)} does not exclude zero "
        f"(margin rule: {margin_reason})"
    )
