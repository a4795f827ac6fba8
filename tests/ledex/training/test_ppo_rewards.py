"""Online rewards of fresh answers: the real sandbox, CodeBLEU and sentence encoder."""

from __future__ import annotations

import json

import pytest

from ledex.execution.severity import SeverityWeights
from ledex.generation.prompts import explain_refine_answer, fenced
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.problems import Problem
from ledex.training.embeddings import MINILM, SentenceEncoder
from ledex.training.online_rewards import OnlineRewarder, References, read_projection, rl_prompts
from ledex.training.rewards import ExplanationProjection
from sandbox import Sandbox, SandboxConfig

PROBLEM = Problem(
    id="toy/0",
    benchmark="toy",
    language="python",
    prompt="Write a function add(a, b) returning a + b.",
    entry_point="add",
    test_program="",
    test_cases=("assert add(1, 2) == 3", "assert add(2, 2) == 4"),
    completion_style=False,
)
PROBLEMS = {PROBLEM.id: PROBLEM}
WRONG_CODE = "def add(a, b):\n    return a * b"  # passes add(2, 2) only
FIXED_CODE = "def add(a, b):\n    return a + b"
EXPLANATION = "It multiplies instead of adding."
WRONG = [
    Execution(
        sample_id="toy/0#s1",
        problem_id=PROBLEM.id,
        code=WRONG_CODE,
        passed=False,
        status="failed",
        pass_rate=0.5,
        feedback="Failed test:\nassert add(1, 2) == 3",
        severity="wrong_answer",
    )
]
VERIFIED = [
    VerifiedRefinement(
        id=f"toy/0#s1#{kind}0",
        sample_id="toy/0#s1",
        problem_id=PROBLEM.id,
        kind=kind,
        explanation=explanation,
        code=FIXED_CODE,
        passed=True,
        status="passed",
        pass_rate=1.0,
    )
    for kind, explanation in (("explain_refine", EXPLANATION), ("refine", ""))
]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder(MINILM)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=2)) as box:
        yield box


def score(sandbox, encoder, answers: list[tuple[str, str]], severity=None):
    """Rewards of (prompt kind, answer) pairs for the wrong solution WRONG[0]."""
    prompts = {p.kind: p for p in rl_prompts(PROBLEMS, WRONG, source="wrong.jsonl")}
    rewarder = OnlineRewarder(sandbox, References(VERIFIED, encoder), ExplanationProjection(), encoder, 5.0, severity)
    return rewarder([prompts[kind] for kind, _ in answers], [answer for _, answer in answers])


def test_both_prompt_kinds_per_wrong_solution():
    prompts = rl_prompts(PROBLEMS, WRONG, source="wrong.jsonl")
    assert [(p.wrong.sample_id, p.kind) for p in prompts] == [("toy/0#s1", "refine"), ("toy/0#s1", "explain_refine")]
    assert (
        "First explain" in prompts[1].messages[-1]["content"]
        and "First explain" not in prompts[0].messages[-1]["content"]
    )


def test_unknown_problem_is_named_with_its_row():
    with pytest.raises(ValueError, match="wrong.jsonl: row 1: problem toy/0"):
        rl_prompts({}, WRONG, source="wrong.jsonl")


def test_correct_answer_with_the_verified_explanation_earns_the_top_rewards(sandbox, encoder):
    answer = explain_refine_answer(EXPLANATION, FIXED_CODE, "python")
    [reward] = score(sandbox, encoder, [("explain_refine", answer)])
    assert reward.scores["S_ut"] == 1.0 and reward.scores["passed"] == 1.0
    assert reward.scores["S_cb"] == pytest.approx(1.0)  # the very code that was verified
    assert reward.scores["S_ex"] == pytest.approx(1.0, abs=1e-5)
    assert reward.code == pytest.approx(5.0) and reward.explanation == pytest.approx(5.0, abs=1e-3)
    assert answer[: reward.explanation_end].endswith(EXPLANATION)


def test_wrong_code_missing_code_and_missing_explanation_are_penalised(sandbox, encoder):
    wrong, prose, silent = score(
        sandbox,
        encoder,
        [
            ("refine", fenced(WRONG_CODE, "python")),
            ("refine", "I would change the operator."),
            ("explain_refine", fenced(FIXED_CODE, "python")),  # asked for an explanation, gave none
        ],
    )
    assert wrong.scores["S_ut"] == 0.5 and 0 < wrong.scores["S_cb"] < 1  # one of two tests passes
    assert wrong.code == pytest.approx(5 * (wrong.scores["S_cb"] + 0.5) - 5)  # R(r) = 5 (S_cb + S_ut) - 5
    assert wrong.explanation is None  # refine-only: the code reward alone
    assert prose.code == -5.0 and prose.scores["S_ut"] == 0.0
    assert silent.scores["S_ut"] == 1.0 and silent.explanation == -5.0 and silent.explanation_end == 0


def test_severity_weight_scales_both_rewards(sandbox, encoder):
    answer = explain_refine_answer("The function returns a product, not a sum.", FIXED_CODE, "python")
    [plain] = score(sandbox, encoder, [("explain_refine", answer)])
    [weighted] = score(sandbox, encoder, [("explain_refine", answer)], SeverityWeights.from_params(RewardFitParams()))
    weight = RewardFitParams().severity_weights["wrong_answer"]  # WRONG[0] failed a test
    assert weight != 1.0
    assert weighted.code == pytest.approx(weight * plain.code)
    assert weighted.explanation == pytest.approx(weight * plain.explanation)


def test_projection_is_read_from_reward_fit_or_the_papers(tmp_path):
    projection, info = read_projection(tmp_path / "projection.json")
    assert projection == ExplanationProjection() and info["source"].startswith("paper default")
    (tmp_path / "projection.json").write_text(
        json.dumps({"lo": 0.2, "hi": 0.9, "border": 0.5, "source": "fitted", "embedding_model": "some/encoder"})
    )
    projection, info = read_projection(tmp_path / "projection.json")
    assert projection == ExplanationProjection(0.2, 0.9, 0.5)
    assert info == {"lo": 0.2, "hi": 0.9, "border": 0.5, "source": "fitted", "embedding_model": "some/encoder"}
    (tmp_path / "projection.json").write_text(json.dumps({"lo": 0.2}))
    with pytest.raises(ValueError, match="lacks hi, border"):
        read_projection(tmp_path / "projection.json")
