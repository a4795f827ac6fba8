"""What PPO trains on and what its rewards look like, separately for refine and explain+refine.

The prompt mix: prompts by kind, with or without verified references, by code reference source
and by severity tier. Per step, by kind: the mean of S_cb, S_ut, S_ex, R(r), R(e) (unweighted)
and the learned reward model's score over the answers that have each, the fraction that passed,
that got R(e), and that got a non-zero code-similarity term (S_cb > 0). Names are
`<kind>/<statistic>`. Over the run: those two fractions by kind and over all answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from statistics import fmean

from ledex.execution.severity import SeverityWeights
from ledex.pipeline.records import Kind
from ledex.training.ppo_trainer import ResponseReward
from ledex.training.references import References

MEANS = ("S_cb", "S_ut", "S_ex", "R_r", "R_e", "RM")
COVERAGE = ("with_S_cb", "with_R_e")


def mix_of_prompts(prompts: Sequence, references: References, severity: SeverityWeights | None) -> dict:
    """How many `RLPrompt`s of each kind with or without verified references, by code reference
    source, and by severity tier ("off" without severity weighting)."""

    def verified(prompt) -> str:
        return "with" if references.has_verified(prompt.wrong.sample_id) else "without"

    return {
        "by_kind": dict(Counter(f"{p.kind}/{verified(p)}_references" for p in prompts)),
        "code_reference": dict(Counter(references.code(p.wrong.sample_id, p.problem.id).source.value for p in prompts)),
        "severity": dict(Counter(severity.tier_of(p.wrong) for p in prompts)) if severity else "off",
    }


def kind_stats(rewards: Sequence[ResponseReward]) -> dict[str, float]:
    """Per-kind statistics of one step's rewards (kinds without answers are left out)."""
    stats = {}
    for kind in Kind:
        scores = [r.scores for r in rewards if r.group == kind.value]
        if not scores:
            continue
        stats[f"{kind}/responses"] = float(len(scores))
        for name in MEANS:
            values = [s[name] for s in scores if name in s]
            if values:
                stats[f"{kind}/{name}"] = fmean(values)
        stats[f"{kind}/passed"] = fmean(s["passed"] for s in scores)
        stats[f"{kind}/with_R_e"] = fmean("R_e" in s for s in scores)
        stats[f"{kind}/with_S_cb"] = fmean(s.get("S_cb", 0.0) > 0 for s in scores)
    return stats


def coverage(history: Sequence[dict]) -> dict[str, float]:
    """Over the whole run, by kind and over all answers: the fraction with a non-zero S_cb term and
    with R(e) (each step's fractions weighted by its answers)."""
    totals: Counter[str] = Counter()
    for stats in history:
        for kind in Kind:
            answers = stats.get(f"{kind}/responses", 0.0)
            for group in (kind.value, "all"):
                totals[f"{group}/responses"] += answers
                for name in COVERAGE:
                    totals[f"{group}/{name}"] += stats.get(f"{kind}/{name}", 0.0) * answers
    groups = [kind.value for kind in Kind] + ["all"]
    return {
        f"{group}/{name}": round(totals[f"{group}/{name}"] / totals[f"{group}/responses"], 4)
        for group in groups
        if totals[f"{group}/responses"]
        for name in COVERAGE
    }
