"""The references a refinement of wrong solution w is scored against (paper 2.3), shared by
`reward-fit` and `ppo`.

R_c^w: w's verified refinements; E_c^w: the explanations among them (followed by a correct
refinement). Leave-one-out: the answer being scored is never its own reference (`exclude` names
it; a fresh PPO answer is in neither set). Where R_c^w is empty (after leaving one out), the
problem's canonical solution is the code reference; with neither, there is none and R(r) comes
from S_ut alone (`rewards.code_reward`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ledex.pipeline.records import VerifiedRefinement
from ledex.problems import Problem


class ReferenceSource(StrEnum):
    """Where a refinement's code references came from."""

    VERIFIED = "verified"  # R_c^w, the paper's
    CANONICAL = "canonical"  # the benchmark's solution (ours: w had no other verified refinement)
    NONE = "none"  # no reference: R(r) = 10 * S_ut - 5 (ours)


@dataclass(frozen=True)
class CodeReferences:
    source: ReferenceSource
    codes: tuple[str, ...]


def canonical_program(problem: Problem) -> str | None:
    """The benchmark's solution as a whole program (a completion-style one follows its prompt)."""
    if not problem.canonical_solution:
        return None
    return problem.prompt + problem.canonical_solution if problem.completion_style else problem.canonical_solution


class References:
    """R_c^w and E_c^w of every wrong solution w, from the verified refinements."""

    def __init__(self, verified: Sequence[VerifiedRefinement], problems: Mapping[str, Problem]):
        self.problems = problems
        self.verified: dict[str, list[VerifiedRefinement]] = defaultdict(list)
        for refinement in verified:
            if refinement.code is not None:
                self.verified[refinement.sample_id].append(refinement)

    def has_verified(self, wrong_id: str) -> bool:
        return bool(self.verified.get(wrong_id))

    def refinements(self, wrong_id: str, exclude: str | None = None) -> tuple[str, ...]:
        """R_c^w less the refinement `exclude`."""
        return tuple(r.code for r in self.verified.get(wrong_id, []) if r.id != exclude)

    def code(self, wrong_id: str, problem_id: str, exclude: str | None = None) -> CodeReferences:
        """R_c^w less the refinement `exclude`; else the canonical solution; else none."""
        codes = self.refinements(wrong_id, exclude)
        if codes:
            return CodeReferences(ReferenceSource.VERIFIED, codes)
        canonical = canonical_program(self.problems[problem_id])
        if canonical is not None:
            return CodeReferences(ReferenceSource.CANONICAL, (canonical,))
        return CodeReferences(ReferenceSource.NONE, ())

    def explanations(self, wrong_id: str, exclude: str | None = None) -> list[str]:
        """E_c^w less the explanation of refinement `exclude`."""
        return [
            r.explanation
            for r in self.verified.get(wrong_id, [])
            if r.kind.explains and r.explanation.strip() and r.id != exclude
        ]
