"""Online rewards of fresh answers: the real sandbox, CodeBLEU and sentence encoder, and a tiny
learned reward model trained on a preferences fixture."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ledex.execution.severity import SeverityWeights
from ledex.generation.prompts import explain_refine_answer, fenced
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.problems import Problem
from ledex.training.embeddings import MINILM, SentenceEncoder
from ledex.training.learned_reward import load_learned_reward, prompt_text
from ledex.training.online_rewards import OnlineRewarder, read_projection, rl_prompts, select_prompts
from ledex.training.references import References
from ledex.training.reward_model import read_preferences
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


# A second wrong solution of a problem with a canonical solution and no verified refinement, and a
# third of a problem with neither.
CANONICAL_PROBLEM = replace(PROBLEM, id="toy/1", canonical_solution=FIXED_CODE)
BARE_PROBLEM = replace(PROBLEM, id="toy/2")
ALL_PROBLEMS = {p.id: p for p in (PROBLEM, CANONICAL_PROBLEM, BARE_PROBLEM)}
UNREFINED = [replace(WRONG[0], sample_id=f"{p.id}#s0", problem_id=p.id) for p in (CANONICAL_PROBLEM, BARE_PROBLEM)]


@pytest.fixture(scope="module")
def encoder():
    return SentenceEncoder(MINILM)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=2)) as box:
        yield box


def score(sandbox, encoder, answers: list[tuple[str, str]], severity=None, wrong=WRONG[0], learned=None, weight=0.0):
    """Rewards of (prompt kind, answer) pairs for the wrong solution `wrong`."""
    prompts = {p.kind: p for p in rl_prompts(ALL_PROBLEMS, [wrong], source="wrong.jsonl")}
    references = References(VERIFIED, ALL_PROBLEMS)
    rewarder = OnlineRewarder(sandbox, references, ExplanationProjection(), encoder, 5.0, severity, learned, weight)
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


def test_severity_weight_scales_what_a_fix_earns_not_penalties(sandbox, encoder):
    answers = [
        ("explain_refine", explain_refine_answer(EXPLANATION, FIXED_CODE, "python")),
        ("explain_refine", fenced(FIXED_CODE, "python")),  # no explanation: R(e) = -5
        ("refine", "I would change the operator."),  # no code: R(r) = -5
    ]
    plain_fix, plain_silent, plain_prose = score(sandbox, encoder, answers)
    params = RewardFitParams(severity_weights={**RewardFitParams().severity_weights, "wrong_answer": 2.0})
    fix, silent, prose = score(sandbox, encoder, answers, SeverityWeights.from_params(params))  # WRONG[0] failed
    assert plain_fix.code > 0 and fix.code == pytest.approx(2.0 * plain_fix.code)
    assert plain_fix.explanation > 0 and fix.explanation == pytest.approx(2.0 * plain_fix.explanation)
    assert silent.explanation == plain_silent.explanation == -5.0  # a penalty is not scaled
    assert prose.code == plain_prose.code == -5.0
    assert fix.scores["R_r"] == pytest.approx(plain_fix.code)  # the metrics keep the unweighted R(r)


def test_canonical_solution_is_the_reference_when_w_has_no_verified_one(sandbox, encoder):
    wrong_code = fenced(WRONG_CODE, "python")
    [canonical] = score(sandbox, encoder, [("refine", wrong_code)], wrong=UNREFINED[0])
    [none] = score(sandbox, encoder, [("refine", wrong_code)], wrong=UNREFINED[1])
    [verified] = score(sandbox, encoder, [("refine", wrong_code)])
    assert canonical.scores["S_cb"] == pytest.approx(verified.scores["S_cb"])  # both against FIXED_CODE
    assert "S_cb" not in none.scores and none.code == pytest.approx(10 * 0.5 - 5)  # ours: 10 S_ut - 5
    [explained] = score(
        sandbox, encoder, [("explain_refine", explain_refine_answer("x", FIXED_CODE, "python"))], wrong=UNREFINED[0]
    )
    assert explained.explanation is None and "R_e" not in explained.scores  # no E_c^w: no R(e)


def test_prompt_selection_all_or_with_references():
    prompts = rl_prompts(ALL_PROBLEMS, WRONG + UNREFINED, source="wrong.jsonl")
    references = References(VERIFIED, ALL_PROBLEMS)
    assert select_prompts(prompts, references, "all") == prompts
    assert [p.wrong.sample_id for p in select_prompts(prompts, references, "with_references")] == ["toy/0#s1"] * 2


def test_no_trained_reward_model_means_weight_zero_said_so(tmp_path):
    learned, info = load_learned_reward(tmp_path / "reward_model", 1.0, 256)
    assert learned is None and info["used"] is False and info["weight"] == 0.0 and "status.json" in info["reason"]
    (tmp_path / "reward_model").mkdir()
    (tmp_path / "reward_model/status.json").write_text(
        json.dumps({"status": "skipped", "reason": "no preference file"})
    )
    assert load_learned_reward(tmp_path / "reward_model", 1.0, 256)[1]["reason"] == "no preference file"


def train_tiny_reward_model(directory, base) -> None:
    """`reward-fit`'s learned reward model in `directory/models/reward_model`, trained on a preferences
    fixture: for WRONG[0]'s prompts, the fixed code beats the wrong code."""
    from stages.reward_fit import fit_reward_model

    prompts = rl_prompts(PROBLEMS, WRONG, source="wrong.jsonl")
    rows = [
        {
            "prompt": prompt_text(p.messages),
            "chosen": fenced(FIXED_CODE, "python"),
            "rejected": fenced(WRONG_CODE, "python"),
        }
        for p in prompts
    ] * 4
    settings = RewardFitParams(
        reward_model=str(base),
        reward_model_batch_size=2,
        reward_model_epochs=3,
        reward_model_learning_rate=1e-3,
        reward_model_max_length=512,
        preferences=directory / "preferences.jsonl",
        held_out_fraction=0.25,
    )
    settings.preferences.write_text("".join(json.dumps(row) + "\n" for row in rows))
    severity = SeverityWeights.from_params(settings)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(directory)
        assert (
            fit_reward_model(read_preferences(settings.preferences, severity), settings, severity)["status"]
            == "trained"
        )


@pytest.fixture(scope="module")
def reward_model_dir(tmp_path_factory, tiny_qwen2_checkpoint):
    directory = tmp_path_factory.mktemp("reward-fit")
    train_tiny_reward_model(directory, tiny_qwen2_checkpoint)
    return directory / "models/reward_model"


def test_the_learned_reward_model_adds_its_weighted_score_on_the_last_token(sandbox, encoder, reward_model_dir):
    learned, info = load_learned_reward(reward_model_dir, 0.5, 512)
    assert info["used"] and info["weight"] == 0.5
    answers = [("refine", fenced(FIXED_CODE, "python")), ("refine", fenced(WRONG_CODE, "python"))]
    without = score(sandbox, encoder, answers)
    fixed, wrong = score(sandbox, encoder, answers, learned=learned, weight=0.5)
    assert fixed.scores["RM"] > wrong.scores["RM"]  # it learned the preferences
    for plain, scored in zip(without, (fixed, wrong)):
        assert scored.code == plain.code and plain.learned == 0.0
        assert scored.learned == pytest.approx(0.5 * scored.scores["RM"]) and scored.learned != 0.0


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
