"""HumanEval+ and MBPP+ from fixtures the tests write: release JSONL (inputs only, expected outputs
from the canonical solution, computed in the sandbox) and the Hub's schema (outputs embedded)."""

from __future__ import annotations

import json

import pytest

from ledex.execution.jobs import canonical_job, model_job
from ledex.pipeline.config import DataParams, ProblemSetSpec
from ledex.problems import load_benchmark, load_training_problems
from ledex.problems.problem_sets import training_problems
from sandbox import Sandbox, SandboxConfig

HUMANEVAL_PLUS = [
    {
        "task_id": "HumanEval/2",
        "prompt": 'def truncate_number(number: float) -> float:\n    """The decimal part of number."""\n',
        "entry_point": "truncate_number",
        "canonical_solution": "    return number % 1.0\n",
        "base_input": [[3.5]],
        "plus_input": [[1.33], [1e-7], [123.456]],
        "atol": 0,
        "contract": "",
    },
    {
        "task_id": "HumanEval/3",
        "prompt": "def below_zero(operations: list) -> bool:\n",
        "entry_point": "below_zero",
        "canonical_solution": (
            "    balance = 0\n    for op in operations:\n        balance += op\n"
            "        if balance < 0:\n            return True\n    return False\n"
        ),
        "base_input": [[[]], [[1, 2, -4]]],
        "plus_input": [[[1, -2, 5]], [[5, -2]]],
        "atol": 0,
    },
]
MBPP_PLUS = [
    {
        "task_id": "Mbpp/2",  # MBPP's prompt split; its inputs are tuples, written as lists
        "prompt": '"""\nWrite a function to find the shared elements from the given two lists.\n'
        'assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n"""\n',
        "entry_point": "similar_elements",
        "canonical_solution": "def similar_elements(a, b):\n    return tuple(set(a) & set(b))\n",
        "base_input": [[[3, 4, 5, 6], [5, 7, 4, 10]]],
        "plus_input": [[[1, 2], [2, 3]]],
        "atol": 0,
    },
    {
        "task_id": "Mbpp/17",  # MBPP's test split
        "prompt": '"""\nWrite a function that returns the perimeter of a square.\n'
        'assert square_perimeter(10)==40\n"""\n',
        "entry_point": "square_perimeter",
        "canonical_solution": "def square_perimeter(a):\n    return 4 * a\n",
        "base_input": [[10], [5]],
        "plus_input": [[0.3], [2.25]],
        "atol": 0,
    },
    {
        "task_id": "Mbpp/602",  # MBPP's train split
        "prompt": '"""\nWrite a python function to find the first repeated character.\n'
        'assert first_repeated_char("abcabc") == "a"\n"""\n',
        "entry_point": "first_repeated_char",
        "canonical_solution": (
            "def first_repeated_char(s):\n    for i, c in enumerate(s):\n        if s[:i + 1].count(c) > 1:\n"
            "            return c\n    return None\n"
        ),
        "base_input": [["abcabc"]],
        "plus_input": [["abc"]],
        "atol": 0,
    },
]


@pytest.fixture
def data_dir(tmp_path):
    (tmp_path / "evalplus").mkdir()
    for name, rows in (("HumanEvalPlus.jsonl", HUMANEVAL_PLUS), ("MbppPlus.jsonl", MBPP_PLUS)):
        (tmp_path / "evalplus" / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tmp_path


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxConfig(workers=2)) as box:
        yield box


def load(name, data_dir, split=None):
    return load_benchmark(name, data_dir=data_dir, source="local", split=split)


def test_every_input_is_a_test_case(data_dir):
    truncate, below_zero = load("humaneval-plus", data_dir)
    assert (truncate.id, truncate.completion_style, truncate.split) == ("HumanEval/2", True, "test")
    assert truncate.test_cases == ("_check(*[3.5])", "_check(*[1.33])", "_check(*[1e-07])", "_check(*[123.456])")
    assert len(below_zero.test_cases) == 4 and "_reference" in below_zero.test_setup


def test_mbpp_plus_keeps_mbpps_ids_splits_and_prompt(data_dir):
    problems = load("mbpp-plus", data_dir)
    assert [(p.id, p.split) for p in problems] == [("mbpp/2", "prompt"), ("mbpp/17", "test"), ("mbpp/602", "train")]
    perimeter = problems[1]
    assert not perimeter.completion_style
    assert perimeter.prompt.startswith("You are an expert Python programmer, and here is your task: Write a function")
    assert perimeter.prompt.endswith("assert square_perimeter(10)==40\n")
    assert problems[0].test_cases[0] == "_check(*[(3, 4, 5, 6), (5, 7, 4, 10)])"  # tuples, as EvalPlus reads them
    assert [p.id for p in load("mbpp-plus", data_dir, split="test")] == ["mbpp/17"]


def test_canonical_solutions_pass_their_own_tests(data_dir, sandbox):
    problems = load("humaneval-plus", data_dir) + load("mbpp-plus", data_dir)
    verdicts = sandbox.run_many([canonical_job(p) for p in problems])
    assert all(v.passed for v in verdicts), [v.status for v in verdicts]


def test_plus_inputs_compare_to_the_reference_outputs(data_dir, sandbox):
    """A solution right on the base inputs and wrong on a plus input fails exactly that case."""
    truncate, below_zero = load("humaneval-plus", data_dir)
    perimeter = load("mbpp-plus", data_dir, split="test")[0]
    jobs = [
        model_job(truncate, "    return number - int(number) if number < 100 else 0.0\n"),  # wrong on 123.456
        model_job(truncate, "    return number - int(number)\n"),  # right within atol 1e-6 (floats)
        model_job(below_zero, "    return sum(operations) < 0\n"),  # wrong on [1, -2, 5]: dips below zero, ends above
        model_job(perimeter, "def square_perimeter(a):\n    return int(4 * a)\n"),  # 1 for 1.2 on 0.3
    ]
    verdicts = sandbox.run_many(jobs)
    assert [v.passed for v in verdicts] == [False, True, False, False]
    assert [verdicts[0].pass_rate, verdicts[2].pass_rate, verdicts[3].pass_rate] == [0.75, 0.75, 0.75]
    assert "truncate_number(123.456,) returned 0.0, expected 0.456" in verdicts[0].message


def test_training_on_mbpp_train_refuses_mbpp_plus_train_tasks_in_evaluation(data_dir, tmp_path):
    (data_dir / "mbpp").mkdir()
    row = {"task_id": 602, "text": "Find the first repeated character.", "code": MBPP_PLUS[2]["canonical_solution"]}
    row |= {"test_list": ['assert first_repeated_char("abcabc") == "a"'], "test_setup_code": ""}
    row |= {"challenge_test_list": []}
    (data_dir / "mbpp" / "mbpp.jsonl").write_text(json.dumps(row) + "\n")
    data = DataParams(
        dir=data_dir,
        train=(ProblemSetSpec(benchmark="mbpp", split="train"),),
        evaluate=(ProblemSetSpec(benchmark="mbpp-plus"),),
    )
    with pytest.raises(ValueError, match=r"overlap in 1 problems \(first: mbpp/602\)"):
        training_problems(data)
    held_apart = data.model_copy(update={"evaluate": (ProblemSetSpec(benchmark="mbpp-plus", split="test"),)})
    assert [p.id for p in training_problems(held_apart)] == ["mbpp/602"]
    assert load_training_problems("mbpp-plus", data_dir=data_dir, source="local", split="train")[0].id == "mbpp/602"


def test_hub_rows_run_their_embedded_test_program(monkeypatch, sandbox):
    import datasets

    humaneval_row = {
        "task_id": "HumanEval/2",
        "prompt": HUMANEVAL_PLUS[0]["prompt"],
        "entry_point": "truncate_number",
        "canonical_solution": HUMANEVAL_PLUS[0]["canonical_solution"],
        "test": "def check(candidate):\n    inputs = [[3.5], [1.25]]\n    results = [0.5, 0.25]\n"
        "    for inp, exp in zip(inputs, results):\n        assert abs(candidate(*inp) - exp) <= 1e-6\n",
    }
    mbpp_row = {
        "task_id": 17,
        "code": MBPP_PLUS[1]["canonical_solution"],
        "prompt": "Write a function that returns the perimeter of a square.",
        "source_file": "",
        "test_imports": [],
        "test_list": ["assert square_perimeter(10)==40"],
        "test": "inputs = [[10], [0.3]]\nresults = [40, 1.2]\nfor inp, exp in zip(inputs, results):\n"
        "    assert abs(square_perimeter(*inp) - exp) <= 1e-6\n",
    }
    rows = {"evalplus/humanevalplus": [humaneval_row], "evalplus/mbppplus": [mbpp_row]}
    requests = []

    def load_dataset(path, name=None, *, split, data_files=None):
        requests.append((path, split))
        return datasets.Dataset.from_list(rows[path])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    (truncate,) = load_benchmark("humaneval-plus", data_dir=None, source="hub")
    (perimeter,) = load_benchmark("mbpp-plus", data_dir=None, source="hub", split="test")
    assert requests == [("evalplus/humanevalplus", "test"), ("evalplus/mbppplus", "test")]
    assert (perimeter.id, perimeter.split, perimeter.entry_point) == ("mbpp/17", "test", "square_perimeter")
    verdicts = sandbox.run_many(
        [
            canonical_job(truncate),
            canonical_job(perimeter),
            model_job(perimeter, "def square_perimeter(a):\n    return int(4 * a)\n"),
        ]
    )
    assert [v.passed for v in verdicts] == [True, True, False]
