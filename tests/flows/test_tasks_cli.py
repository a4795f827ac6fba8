"""`ledex tasks check|add` against the real sandbox: invalid rows are reported, valid ones added once."""

import json

import pytest
import yaml

from flows.cli import main
from ledex.problems.tasks import load_tasks
from tests.ledex.problems.test_tasks import JAVA_TASK, PYTHON_TASK, write

PASSING = "def gcd(a, b):\n    return gcd(b, a % b) if b else a\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    params = {"data": {"tasks": "inbox.jsonl"}, "sandbox": {"workers": 2}, "execute_filter": {"timeout_s": 10}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    return tmp_path


def test_check_reports_a_bug_that_does_not_reproduce_and_a_fix_that_fails(project, capsys):
    path = write(
        project / "tasks.jsonl",
        PYTHON_TASK,
        {**PYTHON_TASK, "id": "not-a-bug", "buggy_code": PASSING},
        {**PYTHON_TASK, "id": "bad-fix", "fix": "def gcd(a, b):\n    return 1\n"},
        {**JAVA_TASK, "fix": JAVA_TASK["buggy_code"].replace("return a;", "return b == 0 ? a : gcd(b, a % b);")},
        {**PYTHON_TASK, "id": 3},
    )
    assert main(["tasks", "check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{path}:1 gcd: ok: bug reproduces (runtime_error:") and "RecursionError" in lines[0]
    assert lines[0].endswith("; fix passes")
    assert lines[1] == f"{path}:2 not-a-bug: INVALID: the bug does not reproduce: buggy_code passes every test"
    assert lines[2].startswith(f"{path}:3 bad-fix: INVALID: the fix fails its tests: failed: Failed test:")
    assert lines[3].startswith(f"{path}:4 java-gcd: ok: bug reproduces (failed:") and lines[3].endswith("fix passes")
    assert lines[4] == f"INVALID: {path}:5: field id: expected a string, got int"
    assert lines[5] == f"{path}: 2 valid, 3 invalid of 5 rows"
    assert not (project / "inbox.jsonl").exists()  # check changes nothing


def test_add_keeps_what_was_added_before_and_counts_what_it_did(project, capsys):
    inbox = project / "inbox.jsonl"
    assert main(["tasks", "add", str(write(project / "first.jsonl", PYTHON_TASK))]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "inbox.jsonl: 1 added, 0 duplicate, 0 rejected"

    later = write(project / "later.jsonl", PYTHON_TASK, JAVA_TASK, {**PYTHON_TASK, "id": "x", "buggy_code": PASSING})
    assert main(["tasks", "add", str(later)]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "inbox.jsonl: 1 added, 1 duplicate, 1 rejected"
    assert [task.id for task in load_tasks(inbox)] == ["gcd", "java-gcd"]
    first = json.loads(inbox.read_text().splitlines()[0])
    assert first == {**PYTHON_TASK, "added_at": first["added_at"]} and first["added_at"].endswith("+00:00")
