"""References for S_cb and S_ex: leave-one-out, the canonical solution as fallback, or none."""

from __future__ import annotations

from dataclasses import replace

from ledex.pipeline.records import VerifiedRefinement
from ledex.problems import Problem
from ledex.training.references import References, ReferenceSource, canonical_program

DESCRIBED = Problem(
    id="mbpp/1",
    benchmark="mbpp",
    language="python",
    prompt="Write add(a, b).",
    entry_point="add",
    test_program="",
    canonical_solution="def add(a, b):\n    return a + b\n",
    completion_style=False,
)
COMPLETED = replace(
    DESCRIBED, id="he/1", prompt="def add(a, b):\n", canonical_solution="    return a + b\n", completion_style=True
)
BARE = replace(DESCRIBED, id="toy/1", canonical_solution=None)
PROBLEMS = {p.id: p for p in (DESCRIBED, COMPLETED, BARE)}


def verified(id: str, sample_id: str, problem_id: str, code: str, explanation: str = "") -> VerifiedRefinement:
    return VerifiedRefinement(
        id=id,
        sample_id=sample_id,
        problem_id=problem_id,
        kind="explain_refine" if explanation else "refine",
        explanation=explanation,
        code=code,
        passed=True,
        status="passed",
        pass_rate=1.0,
    )


REFS = References(
    [
        verified("w1#er0", "w1", "mbpp/1", "A", "why A"),
        verified("w1#r0", "w1", "mbpp/1", "B"),
        verified("w2#er0", "w2", "toy/1", "C", "why C"),
    ],
    PROBLEMS,
)


def test_a_refinement_is_never_its_own_reference():
    assert REFS.code("w1", "mbpp/1").codes == ("A", "B")
    assert REFS.code("w1", "mbpp/1", exclude="w1#er0").codes == ("B",)
    assert REFS.explanations("w1") == ["why A"] and REFS.explanations("w1", exclude="w1#er0") == []


def test_without_verified_refinements_the_canonical_solution_then_nothing():
    only = REFS.code("w2", "toy/1", exclude="w2#er0")  # its one verified refinement left out, no canonical
    assert only.source is ReferenceSource.NONE and only.codes == ()
    fallback = REFS.code("w3", "mbpp/1")
    assert fallback.source is ReferenceSource.CANONICAL and fallback.codes == (DESCRIBED.canonical_solution,)
    assert REFS.code("w1", "mbpp/1").source is ReferenceSource.VERIFIED
    assert REFS.has_verified("w2") and not REFS.has_verified("w3")


def test_a_completion_style_canonical_solution_follows_its_prompt():
    assert canonical_program(COMPLETED) == "def add(a, b):\n    return a + b\n"
    assert canonical_program(DESCRIBED) == DESCRIBED.canonical_solution and canonical_program(BARE) is None
