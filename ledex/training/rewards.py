"""The LEDEX rewards (paper section 2.3 and appendix A.3): the one place their formulas live.

For a wrong solution w with verified refinements R_c^w and their explanations E_c^w:
    S_cb(r) = mean over r_c in R_c^w of CodeBLEU(r, r_c)         code similarity
    S_ut(r) = |T_p(r)| / |T|                                      unit-test pass rate
    S_ex(e) = mean over e_c in E_c^w of CosSim(emb(e), emb(e_c))  explanation similarity
    R(r)    = 5 * (S_cb(r) + S_ut(r)) - 5                         code reward, in [-5, 5]
    R(e)    = S_ex projected from [lo, hi] to [-5, 5], border b -> 0
The paper uses lo=0.4, hi=1.0, b=0.7, i.e. R(e) = (50 * S_ex(e) - 35) / 3.

Ours, not the paper's (docs/rewards.md): with no reference at all (no verified refinement of w
and no canonical solution) R(r) = 10 * S_ut(r) - 5, the pass rate alone on the same [-5, 5];
and R(e) is clipped to [-5, 5] for S_ex outside [lo, hi], which the paper leaves unsaid.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

CODEBLEU_LANGUAGES = {"python": "python", "java": "java", "cpp": "cpp", "js": "javascript"}
REWARD_SCALE = 5.0


def codebleu(refinement: str, reference: str, language: str) -> float:
    """CodeBLEU of one refinement against one reference."""
    from codebleu import calc_codebleu

    return float(calc_codebleu([reference], [refinement], lang=CODEBLEU_LANGUAGES[language])["codebleu"])


def s_cb(
    refinement: str, references: Sequence[str], language: str, pair: Callable[[str, str, str], float] = codebleu
) -> float:
    """S_cb: mean CodeBLEU of a refinement against every reference (there must be one: no silent 0).
    `pair` computes one CodeBLEU (a caller may pass a cached one)."""
    if not references:
        raise ValueError("S_cb needs at least one reference; without one R(r) comes from S_ut alone")
    return float(np.mean([pair(refinement, reference, language) for reference in references]))


def s_ex(explanation: np.ndarray, verified: np.ndarray) -> float:
    """S_ex: mean cosine similarity of one explanation embedding to the verified ones (rows)."""
    if len(verified) == 0:
        return 0.0
    e = explanation / np.linalg.norm(explanation)
    refs = verified / np.linalg.norm(verified, axis=1, keepdims=True)
    return float(np.mean(refs @ e))


def code_reward(s_cb_value: float | None, s_ut_value: float) -> float:
    """R(r) = 5 * (S_cb + S_ut) - 5; without a reference (S_cb None) ours: 10 * S_ut - 5.

    >>> code_reward(0.5, 1.0), code_reward(None, 0.75)
    (2.5, 2.5)
    """
    if s_cb_value is None:
        return 2 * REWARD_SCALE * s_ut_value - REWARD_SCALE
    return REWARD_SCALE * (s_cb_value + s_ut_value) - REWARD_SCALE


@dataclass(frozen=True)
class ExplanationProjection:
    """R(e): S_ex in [lo, border] maps linearly to [-5, 0], [border, hi] to [0, 5]; outside
    [lo, hi] clipped to -5 or 5 (`clip_ours`: the paper does not say what such S_ex gets)."""

    lo: float = 0.4
    hi: float = 1.0
    border: float = 0.7

    def __post_init__(self) -> None:
        if not self.lo < self.border < self.hi:
            raise ValueError(f"need lo < border < hi, got {self.lo}, {self.border}, {self.hi}")

    def __call__(self, s_ex_value: float) -> float:
        if s_ex_value <= self.border:
            reward = REWARD_SCALE * (s_ex_value - self.border) / (self.border - self.lo)
        else:
            reward = REWARD_SCALE * (s_ex_value - self.border) / (self.hi - self.border)
        return clip_ours(reward)

    @classmethod
    def fit(
        cls, s_ex_values: Sequence[float], refined: Sequence[bool], coverage: float = 0.98
    ) -> ExplanationProjection:
        """Range from the observed S_ex (the central `coverage` of it); border where S_ex best
        separates explanations followed by a correct refinement from the others."""
        values = np.asarray(s_ex_values, dtype=float)
        labels = np.asarray(refined, dtype=bool)
        tail = (1 - coverage) / 2 * 100
        lo, hi = np.percentile(values, [tail, 100 - tail])
        inside = np.unique(values[(values > lo) & (values < hi)])
        candidates = (inside[1:] + inside[:-1]) / 2  # borders sit between observed values
        if not labels.any() or labels.all() or len(candidates) == 0:
            return cls(lo, hi, (lo + hi) / 2)
        border = max(candidates, key=lambda b: _balanced_accuracy(values >= b, labels))
        return cls(float(lo), float(hi), float(border))


def clip_ours(reward: float) -> float:
    """Ledex's clipping of R(e) to [-5, 5], not the paper's."""
    return float(np.clip(reward, -REWARD_SCALE, REWARD_SCALE))


def _balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return (np.mean(predicted[labels]) + np.mean(~predicted[~labels])) / 2
