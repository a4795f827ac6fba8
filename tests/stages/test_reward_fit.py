"""The reward-fit stage on hand-written trajectories: real CodeBLEU, real MiniLM embeddings, a tiny
random reward model; no sandbox (the stage reads verdicts, it does not run code)."""

from __future__ import annotations

import json
import logging

import mlflow
import numpy as np
import pytest
import yaml

from ledex.execution.severity import SeverityWeights, weighted
from ledex.pipeline.config import ConfigError, Params, RewardFitParams, load_params
from ledex.pipeline.jsonl import JsonlError, read_jsonl, write_jsonl
from ledex.pipeline.stage_io import write_problems
from ledex.problems import Problem
from ledex.training.rewards import ExplanationProjection, code_reward, s_cb
from ledex.training.trajectory_rewards import code_similarities, map_in_processes
from stages import reward_fit

FIXED = (
    "def has_close(xs, t):\n    for i, a in enumerate(xs):\n        for j, b in enumerate(xs):\n"
    "            if i != j and abs(a - b) < t:\n                return True\n    return False\n"
)
FIXED_TOO = "def has_close(xs, t):\n    ys = sorted(xs)\n    return any(b - a < t for a, b in zip(ys, ys[1:]))\n"
ALMOST = (
    "def has_close(xs, t):\n    for a in xs:\n        for b in xs:\n"
    "            if abs(a - b) < t:\n                return True\n    return False\n"
)
BROKEN = "def total(xs):\n    return sum(xs\n"
WHY_SELF = "The loop compares every element with itself, so the distance is zero and it always finds a close pair."
WHY_SELF_TOO = "Each number is compared with itself; skip the pair where both indices are equal."
WHY_UNRELATED = "The function should print the result instead of returning it."

# Three wrong solutions: w0 (a wrong answer) has one verified explain+refine and one verified
# refine; w1 (a syntax error) has no verified refinement; w2 (a crash) has two verified explanations.
TRAJECTORIES = [
    ("P/0#s0", "P/0", "explain_refine", WHY_SELF, FIXED, True, 1.0),
    ("P/0#s0", "P/0", "explain_refine", WHY_SELF_TOO, ALMOST, False, 0.5),
    ("P/0#s0", "P/0", "refine", "", FIXED_TOO, True, 1.0),
    ("P/0#s0", "P/0", "refine", "", None, False, 0.0),
    ("P/1#s0", "P/1", "explain_refine", WHY_UNRELATED, BROKEN, False, 0.0),
    ("P/1#s0", "P/1", "refine", "", BROKEN, False, 0.0),
    ("P/0#s1", "P/0", "explain_refine", WHY_SELF, FIXED, True, 1.0),
    ("P/0#s1", "P/0", "explain_refine", WHY_SELF_TOO, FIXED_TOO, True, 1.0),
    ("P/0#s1", "P/0", "explain_refine", WHY_UNRELATED, ALMOST, False, 0.25),
]
STATUS = {"P/0#s0": "failed", "P/1#s0": "compile_error", "P/0#s1": "runtime_error"}
WEIGHTS = {"syntax": 0.5, "runtime": 2.0, "resource": 1.0, "wrong_answer": 3.0}


def trajectory_rows() -> list[dict]:
    rows, counters = [], {}
    for sample_id, problem_id, kind, explanation, code, passed, pass_rate in TRAJECTORIES:
        index = counters[sample_id, kind] = counters.get((sample_id, kind), -1) + 1
        status = "unparsed" if code is None else ("passed" if passed else "failed")
        rows.append(
            {
                "id": f"{sample_id}#{'er' if kind == 'explain_refine' else 'r'}{index}",
                "sample_id": sample_id,
                "problem_id": problem_id,
                "kind": kind,
                "explanation": explanation,
                "code": code,
                "passed": passed,
                "status": status,
                "pass_rate": pass_rate,
            }
        )
    return rows


def write_inputs(directory) -> None:
    problems = [
        Problem(id=f"P/{i}", benchmark="toy", language="python", prompt="...", entry_point="f", test_program="")
        for i in (0, 1)
    ]
    write_problems(problems, directory / "data/sample/problems.jsonl")
    (directory / "data/execute_filter").mkdir(parents=True)
    write_jsonl(
        directory / "data/execute_filter/executions.jsonl",
        [
            {
                "sample_id": sample_id,
                "problem_id": sample_id.split("#")[0],
                "code": "",
                "passed": False,
                "status": status,
                "pass_rate": 0.0,
                "feedback": "boom",
                "severity": "",
            }
            for sample_id, status in STATUS.items()
        ],
    )
    (directory / "data/verify").mkdir(parents=True)
    trajectories = trajectory_rows()
    write_jsonl(directory / "data/verify/trajectories.jsonl", trajectories)
    write_jsonl(directory / "data/verify/verified.jsonl", [t for t in trajectories if t["passed"]])
    params = {
        "tracking": {"uri": f"sqlite:///{directory / 'mlflow.db'}"},
        "reward_fit": {"codebleu_workers": 1, "severity_weights": WEIGHTS},
    }
    (directory / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A directory where the stage ran once, uninterrupted, and the log it wrote."""
    directory = tmp_path_factory.mktemp("reward-fit")
    write_inputs(directory)
    with pytest.MonkeyPatch.context() as patch, LogRecords("ledex.reward_fit") as records:
        patch.chdir(directory)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        reward_fit.main()
    return directory, records


class LogRecords(logging.Handler):
    """The messages one logger emits while in the `with` block."""

    def __init__(self, name: str):
        super().__init__(logging.INFO)
        self.logger, self.messages = logging.getLogger(name), []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> list[str]:
        self.logger.addHandler(self)
        self.logger.setLevel(logging.INFO)
        return self.messages

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)


def rewards(directory) -> dict[str, dict]:
    return {row["id"]: row for row in read_jsonl(directory / "data/reward_fit/rewards.jsonl")}


def test_rewards_of_every_trajectory_follow_the_paper(finished):
    workdir, _ = finished
    rows = rewards(workdir)
    assert list(rows) == [row["id"] for row in trajectory_rows()]

    # S_cb: against the verified refinements of the same wrong solution, never the one scored
    assert rows["P/0#s0#er1"]["S_cb"] == pytest.approx(s_cb(ALMOST, [FIXED, FIXED_TOO], "python"))
    assert rows["P/0#s1#er2"]["S_cb"] == pytest.approx(s_cb(ALMOST, [FIXED, FIXED_TOO], "python"))
    assert rows["P/0#s0#er0"]["S_cb"] == pytest.approx(s_cb(FIXED, [FIXED_TOO], "python"))  # leave-one-out
    assert rows["P/0#s0#r0"]["S_cb"] == pytest.approx(s_cb(FIXED_TOO, [FIXED], "python"))
    assert all(rows[i]["S_cb"] < 0.9 for i in ("P/0#s0#er0", "P/0#s0#r0", "P/0#s1#er0", "P/0#s1#er1"))
    assert rows["P/0#s0#er0"]["verified_refinements"] == 1 and rows["P/0#s0#er1"]["verified_refinements"] == 2
    assert rows["P/0#s0#r1"]["S_cb"] is None and rows["P/0#s0#r1"]["R_r"] == -5.0  # no code parsed
    # P/1 has no verified refinement and no canonical solution: R(r) from S_ut alone, never CodeBLEU 0
    for i in ("P/1#s0#er0", "P/1#s0#r0"):
        assert rows[i]["S_cb"] is None and rows[i]["reference"] == "none" and rows[i]["verified_refinements"] == 0
        assert rows[i]["R_r"] == pytest.approx(10 * rows[i]["S_ut"] - 5)
    assert {rows[i]["reference"] for i in rows if i.startswith("P/0")} == {"verified"}

    # S_ex: explain+refine answers against E_c^w less their own explanation
    assert rows["P/0#s0#er0"]["S_ex"] is None  # its explanation is the only verified one
    assert 0.3 < rows["P/0#s0#er1"]["S_ex"] < 0.95  # a paraphrase
    assert rows["P/0#s1#er0"]["S_ex"] == pytest.approx(rows["P/0#s1#er1"]["S_ex"])  # each against the other
    assert rows["P/0#s1#er0"]["S_ex"] < 0.95
    assert rows["P/0#s1#er2"]["S_ex"] < min(rows["P/0#s1#er0"]["S_ex"], rows["P/0#s1#er1"]["S_ex"]) - 0.2
    assert rows["P/1#s0#er0"]["S_ex"] is None and rows["P/0#s0#r0"]["S_ex"] is None

    # R(r), R(e) (the paper's projection: too few explanations to fit one), and severity weights
    projection = json.loads((workdir / "data/reward_fit/projection.json").read_text())
    assert (
        projection | {"lo": 0.4, "hi": 1.0, "border": 0.7, "source": "paper", "embedding_model": "all-MiniLM-L6-v2"}
        == projection
    )
    paper = ExplanationProjection()
    tier = {"P/0#s0": "wrong_answer", "P/1#s0": "syntax", "P/0#s1": "runtime"}
    for row in rows.values():
        assert row["R_r"] == pytest.approx(code_reward(row["S_cb"], row["S_ut"]))
        assert row["severity"] == tier[row["sample_id"]]
        assert row["R_r_weighted"] == pytest.approx(weighted(row["R_r"], WEIGHTS[row["severity"]]))
        if row["S_ex"] is not None:
            assert row["R_e"] == pytest.approx(paper(row["S_ex"]))
            assert row["R_e_weighted"] == pytest.approx(weighted(row["R_e"], WEIGHTS[row["severity"]]))
    assert rows["P/0#s0#r0"]["R_r"] == pytest.approx(5 * rows["P/0#s0#r0"]["S_cb"])  # passes: S_ut = 1
    assert rows["P/1#s0#r0"]["R_r_weighted"] == rows["P/1#s0#r0"]["R_r"] == -5.0  # a penalty is not scaled
    assert rows["P/0#s1#er0"]["R_r_weighted"] == pytest.approx(WEIGHTS["runtime"] * rows["P/0#s1#er0"]["R_r"])


def test_metrics_plots_and_the_skipped_reward_model(finished):
    workdir, log = finished
    metrics = json.loads((workdir / "metrics/reward_fit.json").read_text())
    assert metrics["trajectories"] == 9 and metrics["wrong_solutions"] == 3
    assert metrics["wrong_solutions_without_verified_refinement"] == 1
    assert metrics["explanations_scored"] == 4 and metrics["explanations_without_ground_truth"] == 2
    assert metrics["references"] == {"verified": 7, "none": 2}
    correct = metrics["correct_refinements_S_cb"]
    assert correct["scored"] == 4 and correct["max"] < 1.0 and correct["mean"] < 1.0  # leave-one-out
    assert metrics["by_outcome"]["correct"]["trajectories"] == 4 and metrics["by_outcome"]["correct"]["S_ut"] == 1.0
    assert metrics["by_outcome"]["correct"]["R_r"] > metrics["by_outcome"]["wrong"]["R_r"]
    assert metrics["severity"] == {"wrong_answer": 4, "syntax": 2, "runtime": 3}
    assert metrics["projection"]["source"] == "paper"
    assert metrics["reward_model"] == {
        "status": "skipped",
        "reason": "no preference file at data/feedback/preferences.jsonl",
    }
    assert any("no expert preferences at data/feedback/preferences.jsonl" in message for message in log)
    assert json.loads((workdir / "models/reward_model/status.json").read_text()) == metrics["reward_model"]

    plots = sorted(p.name for p in (workdir / "data/reward_fit/plots").glob("*.png"))
    assert plots == ["a_S_cb.png", "b_S_ut.png", "c_S_ex.png", "d_R_r.png", "e_R_e.png"]
    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    run = mlflow.search_runs(experiment_names=["ledex"], output_format="list")[0]
    client = mlflow.MlflowClient()
    logged = [a.path for a in client.list_artifacts(run.info.run_id, "reward_fit/plots")]
    assert sorted(path.rsplit("/", 1)[1] for path in logged) == plots
    assert run.data.metrics["by_outcome.correct.R_r"] == metrics["by_outcome"]["correct"]["R_r"]


def test_a_killed_run_resumes_to_the_same_rewards(finished, tmp_path, monkeypatch):
    expected = (finished[0] / "data/reward_fit/rewards.jsonl").read_bytes()
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    real = reward_fit.code_similarities
    calls = []

    def dies_on_the_second_wrong_solution(job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed")
        return real(job)

    monkeypatch.setattr(reward_fit, "code_similarities", dies_on_the_second_wrong_solution)
    with pytest.raises(KeyboardInterrupt):
        reward_fit.main()
    assert not (tmp_path / "data/reward_fit/rewards.jsonl").exists()
    monkeypatch.setattr(reward_fit, "code_similarities", lambda job: calls.append(job) or real(job))
    reward_fit.main()
    assert len(calls) == 2 + 2  # the rerun scores only the two unfinished wrong solutions
    assert (tmp_path / "data/reward_fit/rewards.jsonl").read_bytes() == expected


def test_a_passing_execution_has_no_tier(tmp_path, monkeypatch):
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    rows = list(read_jsonl("data/execute_filter/executions.jsonl"))
    rows[1] |= {"passed": True, "status": "passed"}
    write_jsonl("data/execute_filter/executions.jsonl", rows)
    with pytest.raises(ValueError, match=r"executions.jsonl: P/1#s0: execution status 'passed' has no severity tier"):
        reward_fit.run(Params(reward_fit=RewardFitParams(codebleu_workers=1)))


def test_tier_mapping_and_weights_come_from_params(tmp_path):
    tiers = {**RewardFitParams().severity_tiers, "runtime_error": "wrong_answer"}
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"reward_fit": {"severity_tiers": tiers, "severity_weights": WEIGHTS}})
    )
    severity = SeverityWeights.from_params(load_params(tmp_path / "params.yaml").reward_fit)
    assert severity.tier("runtime_error") == "wrong_answer" and severity.weight("wrong_answer") == 3.0
    assert severity.tier("timeout") == "resource"

    del tiers["memory"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"reward_fit": {"severity_tiers": tiers}}))
    with pytest.raises(ConfigError, match=r"reward_fit.severity_tiers: no tier for execution status\(es\) memory"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"reward_fit": {"severity_weights": {"syntax": 1.0}}}))
    with pytest.raises(
        ConfigError, match=r"tier\(s\) resource, runtime, wrong_answer have no entry in severity_weights"
    ):
        load_params(tmp_path / "params.yaml")


def test_projection_is_fitted_when_both_outcomes_have_enough_explanations():
    rng = np.random.default_rng(0)
    good, bad = rng.uniform(0.72, 0.98, 30), rng.uniform(0.35, 0.62, 30)
    points = [(v, True) for v in good] + [(v, False) for v in bad] + [(None, False)] * 5
    projection, info = reward_fit.fit_projection(points, RewardFitParams(min_fit_points=30))
    assert info["source"] == "fitted" and 0.62 <= projection.border <= 0.72
    assert info["followed_by_correct"] == 30 and info["followed_by_wrong"] == 30
    assert projection.lo < 0.4 and projection.hi > 0.95 and projection(projection.border) == 0.0

    projection, info = reward_fit.fit_projection(points, RewardFitParams(min_fit_points=31))
    assert info["source"] == "paper" and projection == ExplanationProjection() and "31" in info["reason"]

    same = [(0.8, True)] * 10 + [(0.8, False)] * 10
    projection, info = reward_fit.fit_projection(same, RewardFitParams(min_fit_points=10))
    assert info["source"] == "paper" and info["reason"].startswith("cannot fit")


def test_a_malformed_preference_file_fails_before_any_scoring(tmp_path, monkeypatch):
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/feedback").mkdir()
    (tmp_path / "data/feedback/preferences.jsonl").write_text(
        '{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": "p"}\n'
    )
    with pytest.raises(JsonlError, match=r"^data/feedback/preferences.jsonl:2: 'chosen' must be a non-empty string"):
        reward_fit.run(Params(reward_fit=RewardFitParams(codebleu_workers=1)))
    assert not (tmp_path / "data/.checkpoints").exists()


def test_codebleu_in_worker_processes_equals_in_process():
    jobs = [
        ([("a", ALMOST, (FIXED, FIXED_TOO)), ("b", FIXED, (FIXED_TOO,))], "python"),
        ([("c", BROKEN, (FIXED,))], "python"),
        ([("d", FIXED_TOO, ())], "python"),
    ]
    in_process = [code_similarities(job) for job in jobs]
    assert list(map_in_processes(code_similarities, jobs, workers=2)) == in_process
    assert in_process[0]["b"] == pytest.approx(s_cb(FIXED, [FIXED_TOO], "python"))
    assert in_process[2] == {}  # no reference: no S_cb at all, not a CodeBLEU of 0


def test_projection_paper_is_kept_even_when_one_could_be_fitted():
    rng = np.random.default_rng(0)
    points = [(v, True) for v in rng.uniform(0.72, 0.98, 30)] + [(v, False) for v in rng.uniform(0.35, 0.62, 30)]
    projection, info = reward_fit.fit_projection(points, RewardFitParams(projection="paper", min_fit_points=30))
    assert projection == ExplanationProjection() and info["source"] == "paper" and "reason" not in info


def test_reviewers_tiers_override_the_pipelines(tmp_path, monkeypatch):
    write_inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (tmp_path / "data/feedback").mkdir()
    write_jsonl(tmp_path / "data/feedback/severity.jsonl", [{"sample_id": "P/1#s0", "severity": "resource"}])
    reward_fit.main()
    rows = rewards(tmp_path)
    assert rows["P/1#s0#r0"]["severity"] == "resource" and rows["P/0#s0#r0"]["severity"] == "wrong_answer"
    metrics = json.loads((tmp_path / "metrics/reward_fit.json").read_text())
    assert metrics["reviewed_tiers"] == 1 and metrics["severity"]["resource"] == 2

    write_jsonl(tmp_path / "data/feedback/severity.jsonl", [{"sample_id": "P/1#s0", "severity": "cosmic"}])
    with pytest.raises(JsonlError, match=r"data/feedback/severity.jsonl:1: need a 'sample_id' and a 'severity'"):
        reward_fit.main()
