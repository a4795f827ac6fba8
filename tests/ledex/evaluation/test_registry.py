"""The MLflow registry on a tiny random checkpoint: the pyfunc debugger round trip and promotion."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from ledex.evaluation.bootstrap import Interval
from ledex.evaluation.promotion_gate import Evidence
from ledex.evaluation.registry import (
    CHALLENGER,
    CHAMPION,
    PROMOTION_TAG,
    current_champion,
    describe_version,
    find_version,
    promote,
    register,
)
from ledex.pipeline.checkpoint import directory_digest
from ledex.pipeline.lineage import (
    CYCLE_FLOW_RUN_TAG,
    CYCLE_RUN_TAG,
    PARENT_TAG,
    POLICY_TAG,
)
from ledex.pipeline.tracking import FLOW_RUN_TAG

REQUESTS = pd.DataFrame(
    [
        {
            "problem": "Write add(a, b) returning a + b.",
            "code": "def add(a, b):\n    return a - b",
            "feedback": "assert add(1, 2) == 3\n  actual: -1\n  expected: 3",
            "language": "python",
        },
        {
            "problem": "Return twice n.",
            "code": "long twice(long n) { return n; }",
            "feedback": "Assertion failed",
            "language": "cpp",
        },
    ]
)


@pytest.fixture(scope="module")
def version_one(registry_store, tiny_qwen2_checkpoint):
    with mlflow.start_run() as run:
        return register(tiny_qwen2_checkpoint, "sft", run.info.run_id)


def test_a_registered_checkpoint_is_found_by_its_content(version_one, tiny_qwen2_checkpoint, tmp_path):
    assert version_one == "1"
    tags = MlflowClient().get_model_version("ledex-debugger", version_one).tags
    assert tags["ledex.stage"] == "sft" and tags["ledex.checkpoint_sha256"] == directory_digest(tiny_qwen2_checkpoint)
    assert find_version(tiny_qwen2_checkpoint) == "1"
    (tmp_path / "config.json").write_text("{}")
    assert find_version(tmp_path) is None


def test_the_champion_answers_debugging_requests(version_one):
    assert promote(version_one, 0.5, "humaneval#p", 0.0).alias == CHAMPION
    model = mlflow.pyfunc.load_model("models:/ledex-debugger@champion")
    answers = model.predict(REQUESTS, params={"max_new_tokens": 12})
    assert list(answers.columns) == ["explanation", "code", "answer"] and len(answers) == 2
    assert all(isinstance(text, str) for text in answers.to_numpy().ravel())
    assert (answers["answer"].str.len() > 0).all()  # a random model's gibberish, but an answer per request
    one = model.predict({k: v for k, v in REQUESTS.iloc[0].items() if k != "language"}, params={"max_new_tokens": 4})
    assert len(one) == 1  # a single request as a dict, language defaulting to Python
    with pytest.raises(Exception, match="request 0: language 'cobol'"):
        model.predict(REQUESTS.assign(language="cobol"), params={"max_new_tokens": 4})


def test_promotion_needs_a_margin_over_the_champion_on_the_same_benchmark(version_one):
    name = "promotion-test"
    source = MlflowClient().get_model_version("ledex-debugger", version_one).source
    v1, v2, v3 = (mlflow.register_model(source, name).version for _ in range(3))
    client = MlflowClient()

    first = promote(str(v1), 0.50, "humaneval#p", 0.05, name=name)
    assert (first.alias, first.reason) == (
        CHAMPION,
        "v1 is the first champion (pass@1 Expl.+Refine 0.5000 on humaneval#p)",
    )

    close = promote(str(v2), 0.54, "humaneval#p", 0.05, name=name)
    assert close.alias == CHALLENGER
    assert (
        close.reason
        == "margin rule: v2's pass@1 Expl.+Refine 0.5400 on humaneval#p does not beat champion v1's 0.5000 "
        "by more than the margin 0.05"
    )
    assert client.get_model_version(name, str(v2)).tags[PROMOTION_TAG] == close.reason
    assert str(client.get_model_version_by_alias(name, CHAMPION).version) == "1"

    better = promote(str(v2), 0.56, "humaneval#p", 0.05, name=name)
    assert better.alias == CHAMPION and "beats champion v1's 0.5000" in better.reason
    assert str(client.get_model_version_by_alias(name, CHAMPION).version) == "2"
    assert CHALLENGER not in client.get_registered_model(name).aliases  # the new champion is no challenger

    elsewhere = promote(str(v3), 0.90, "mbpp#p", 0.05, name=name)
    assert elsewhere.alias == CHALLENGER and "cannot be compared with champion v2" in elsewhere.reason


def test_the_first_champion_must_not_be_worse_than_the_prompted_base(version_one):
    name = "base-rule-test"
    source = MlflowClient().get_model_version("ledex-debugger", version_one).source
    v1, v2 = (str(mlflow.register_model(source, name).version) for _ in range(2))

    worse = promote(v1, 0.5833, "humaneval#p", 0.0, name=name, base_score=0.65)
    assert (worse.alias, worse.reason) == (
        CHALLENGER,
        "base rule: v1's pass@1 Expl.+Refine 0.5833 on humaneval#p is below the prompted base's 0.6500; "
        "no champion yet, the base stays the policy",
    )
    assert current_champion(name) is None
    level = promote(v2, 0.65, "humaneval#p", 0.0, name=name, base_score=0.65)
    assert level.alias == CHAMPION and level.reason.startswith("v2 is the first champion")


def test_a_version_records_the_policy_and_the_cycle_it_came_from(version_one, tiny_qwen2_checkpoint):
    client = MlflowClient()
    trained_from = {POLICY_TAG: "models:/ledex-debugger/1"}
    with (
        mlflow.start_run(run_name="cycle", tags={FLOW_RUN_TAG: "flow-run-7"}) as cycle,
        mlflow.start_run(run_name="evaluate", nested=True, tags=trained_from) as stage,
    ):
        version = register(tiny_qwen2_checkpoint, "ppo", stage.info.run_id)

    tags = client.get_model_version("ledex-debugger", version).tags
    assert tags[PARENT_TAG] == "models:/ledex-debugger/1"
    assert tags[CYCLE_RUN_TAG] == cycle.info.run_id and tags[CYCLE_FLOW_RUN_TAG] == "flow-run-7"
    first = client.get_model_version("ledex-debugger", version_one).tags  # registered outside any cycle
    assert not {PARENT_TAG, CYCLE_RUN_TAG, CYCLE_FLOW_RUN_TAG} & first.keys()


def test_the_ci_rule_promotes_only_a_paired_delta_above_zero_and_says_so(version_one):
    name = "ci-gate-test"
    source = MlflowClient().get_model_version("ledex-debugger", version_one).source
    v1, v2 = (str(mlflow.register_model(source, name).version) for _ in range(2))
    loose, tight = Interval(0.2, -0.05, 0.45, problems=4, samples=8), Interval(0.2, 0.1, 0.3, problems=40, samples=80)

    unsure = promote(v1, 0.5, "humaneval#p", 0.0, name=name, evidence=Evidence("base prompting", loose))
    assert unsure.alias == CHALLENGER and current_champion(name) is None
    assert unsure.reason == (
        "CI rule: not promoted, the paired delta vs base prompting +0.2000 (95% CI [-0.0500, +0.4500], 4 problems) "
        "does not exclude zero (margin rule: v1 is the first champion (pass@1 Expl.+Refine 0.5000 on humaneval#p))"
    )
    sure = promote(v1, 0.5, "humaneval#p", 0.0, name=name, evidence=Evidence("base prompting", tight))
    assert sure.alias == CHAMPION
    assert sure.reason.startswith("CI rule: the paired delta vs base prompting +0.2000 (95% CI [+0.1000, +0.3000]")

    unpaired = promote(v2, 0.9, "humaneval#p", 0.0, name=name, evidence=Evidence("champion v1", None))
    assert unpaired.alias == CHALLENGER and "champion v1 has no per-problem results" in unpaired.reason
    margin_only = promote(v2, 0.9, "humaneval#p", 0.0, name=name)
    assert margin_only.alias == CHAMPION and margin_only.reason.startswith("margin rule: v2's pass@1")
    assert str(current_champion(name).version) == v2

    describe_version(v2, "## Is this week's model better?", name=name)
    assert MlflowClient().get_model_version(name, v2).description == "## Is this week's model better?"
