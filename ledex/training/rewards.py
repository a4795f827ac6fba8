"""The LEDEX rewards (paper section 2.3 and appendix A.3): the one place their formulas live.

For a wrong solution w with verified refinements R_c^w and their explanations E_c^w:
    S_cb(r) = mean over r_c in R_c^w of CodeBLEU(r, r_c)         code similarity
    S_ut(r) = |T_p(r)| / |T|                                      unit-test pass rate
    S_ex(e) = mean over e_c in E_c^w of CosSim(emb(e), emb(e_c))  explanation similarity
    R(r)    = 5 * (S_cb(r) + S_ut(r)) - 5                         code reward, in [-5, 5]
    R(e)    = S_ex projected from [lo, hi] to [-5, 5], border b -> 0
The paper uses lo=0.4, hi=1.0, b=0.7, i.e. R(e) = (50 * S_ex(e) - 35) / 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CODEBLEU_LANGUAGES = {"python": "python", "java": "java", "cpp": "cpp", "js": "javascript"}
REWARD_SCALE = 5.0


def s_cb(refinement: str, verified: Sequence[str], language: str) -> float:
    """S_cb: mean CodeBLEU of a refinement against every verified refinement (0 when none)."""
    from codebleu import calc_codebleu

    if not verified:
        return 0.0
    lang = CODEBLEU_LANGUAGES[language]
    return float(np.mean([calc_codebleu([ref], [refinement], lang=lang)["codebleu"] for ref in verified]))


def s_ex(explanation: np.ndarray, verified: np.ndarray) -> float:
    """S_ex: mean cosine similarity of one explanation embedding to the verified ones (rows)."""
    if len(verified) == 0:
        return 0.0
    e = explanation / np.linalg.norm(explanation)
    refs = verified / np.linalg.norm(verified, axis=1, keepdims=True)
    return float(np.mean(refs @ e))


def code_reward(s_cb_value: float, s_ut_value: float) -> float:
    """R(r) = 5 * (S_cb + S_ut) - 5."""
    return REWARD_SCALE * (s_cb_value + s_ut_value) - REWARD_SCALE


@dataclass(frozen=True)
class ExplanationProjection:
    """R(e): S_ex in [lo, border] maps linearly to [-5, 0], [border, hi] to [0, 5], clipped."""

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
        return float(np.clip(reward, -REWARD_SCALE, REWARD_SCALE))

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


def _balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    return (np.mean(predicted[labels]) + np.mean(~predicted[~labels])) / 2
