"""The debugging-task format: every bad row is named by file, line and field, and reading goes on."""

import json

import pytest

from ledex.problems.tasks import DebuggingTask, TaskError, load_tasks, parse_task, read_tasks

PYTHON_TASK = {
    "id": "gcd",
    "language": "python",
    "prompt": "Write gcd(a, b).",
    "entry_point": "gcd",
    "test": "def check(candidate):\n    assert candidate(4, 6) == 2\n    assert candidate(3, 0) == 3\n",
    "buggy_code": "def gcd(a, b):\n    return gcd(a % b, b) if b else a\n",
    "fix": "def gcd(a, b):\n    return gcd(b, a % b) if b else a\n",
    "source": "https://example.org/issues/1",
}
JAVA_TASK = {
    "id": "java-gcd",
    "language": "java",
    "prompt": "Write GCD.gcd(int a, int b).",
    "test": "class Tests {\n"
    "    public static void main(String[] args) {\n        assert GCD.gcd(4, 6) == 2;\n    }\n}\n",
    "buggy_code": "public class GCD { public static int gcd(int a, int b) { return a; } }\n",
}


def write(path, *rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


def test_a_python_task_carries_humaneval_tests_one_case_per_assert():
    task = parse_task(PYTHON_TASK, "f.jsonl:1")
    problem = task.problem
    assert (problem.id, problem.benchmark, problem.split, problem.source) == ("gcd", "tasks", "train", "f.jsonl:1")
    assert problem.test_cases == ("assert candidate(4, 6) == 2", "assert candidate(3, 0) == 3")
    assert problem.test_setup == "candidate = gcd" and not problem.completion_style
    assert problem.canonical_solution == PYTHON_TASK["fix"] == task.fix
    assert task.to_row() == PYTHON_TASK


def test_a_java_task_keeps_its_test_program_and_drops_unset_fields_when_written():
    task = parse_task(JAVA_TASK, "f.jsonl:2")
    assert task.problem.test_program == JAVA_TASK["test"] and task.problem.entry_point is None
    assert task.fix is None and task.to_row() == JAVA_TASK


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"buggy_code": None}, "f.jsonl:7: field buggy_code: missing"),
        ({"test": ["assert x"]}, "f.jsonl:7: field test: expected a string, got an array"),
        ({"fix": 3}, "f.jsonl:7: field fix: expected a string, got int"),
        ({"language": "rust"}, "f.jsonl:7: field language: unknown language 'rust'"),
        ({"entry_point": None}, "f.jsonl:7: field entry_point: missing"),
        ({"test": "assert gcd(1, 1) == 1"}, "f.jsonl:7: field test: not a HumanEval check(candidate) module"),
        ({"id": " "}, "f.jsonl:7: field id: empty"),
        ({"severity": "high"}, "f.jsonl:7: unknown field(s) severity"),
    ],
)
def test_a_bad_field_is_named_with_file_and_line(change, message):
    row = {**PYTHON_TASK, **change}
    row = {key: value for key, value in row.items() if value is not None}
    with pytest.raises(TaskError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_task(row, "f.jsonl:7")


def test_a_java_test_without_main_is_refused():
    with pytest.raises(TaskError, match="field test: a java test program needs a main"):
        parse_task({**JAVA_TASK, "test": "assert GCD.gcd(4, 6) == 2;"}, "f.jsonl:1")


def test_reading_reports_each_bad_row_in_place_and_goes_on(tmp_path):
    path = write(
        tmp_path / "tasks.jsonl", PYTHON_TASK, "{not json", {**JAVA_TASK, "language": "go"}, "", PYTHON_TASK, JAVA_TASK
    )
    rows = list(read_tasks(path))
    assert [line for line, _ in rows] == [1, 2, 3, 5, 6]
    assert [type(row).__name__ for _, row in rows] == [
        "DebuggingTask",
        "JsonlError",
        "TaskError",
        "TaskError",
        "DebuggingTask",
    ]
    assert str(rows[1][1]) == f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes)"
    assert str(rows[3][1]) == f"{path}:5: field id: duplicate id 'gcd' (first on line 1)"


def test_load_tasks_raises_the_first_bad_row_and_reads_an_absent_inbox_as_empty(tmp_path):
    assert load_tasks(tmp_path / "absent.jsonl") == []
    path = write(tmp_path / "tasks.jsonl", PYTHON_TASK, {**JAVA_TASK, "buggy_code": 1})
    with pytest.raises(TaskError, match=":2: field buggy_code"):
        load_tasks(path)
    tasks = load_tasks(write(tmp_path / "ok.jsonl", PYTHON_TASK, JAVA_TASK))
    assert all(isinstance(task, DebuggingTask) for task in tasks) and [t.id for t in tasks] == ["gcd", "java-gcd"]
