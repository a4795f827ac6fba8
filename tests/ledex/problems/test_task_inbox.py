"""Adding to the task inbox: duplicates are recognised, conflicts reported, nothing already there is lost."""

from datetime import UTC, datetime

from ledex.problems.task_inbox import add_to_inbox
from ledex.problems.tasks import load_tasks, parse_task
from tests.ledex.problems.test_tasks import JAVA_TASK, PYTHON_TASK


def task(**change):
    return parse_task({**PYTHON_TASK, **change}, "f.jsonl:1")


def test_adding_twice_adds_once(tmp_path):
    inbox = tmp_path / "tasks" / "inbox.jsonl"
    first = add_to_inbox(inbox, [task(), parse_task(JAVA_TASK, "f.jsonl:2")])
    again = add_to_inbox(inbox, [task()])
    assert (first.added, again.added, again.duplicates) == (["gcd", "java-gcd"], [], ["gcd"])
    assert [t.id for t in load_tasks(inbox)] == ["gcd", "java-gcd"]


def test_same_id_other_content_and_same_content_other_id_are_conflicts(tmp_path):
    inbox = tmp_path / "inbox.jsonl"
    add_to_inbox(inbox, [task()])
    before = inbox.read_bytes()
    result = add_to_inbox(inbox, [task(buggy_code="def gcd(a, b):\n    return a\n"), task(id="gcd-again")])
    assert result.added == [] and len(result.conflicts) == 2
    assert "gcd: the inbox holds another task with this id" in result.conflicts[0]
    assert "gcd-again: the inbox holds the same task as gcd" in result.conflicts[1]
    assert inbox.read_bytes() == before


def test_a_new_task_is_appended_after_the_earlier_ones(tmp_path):
    inbox = tmp_path / "inbox.jsonl"
    add_to_inbox(inbox, [task()])
    add_to_inbox(inbox, [parse_task(JAVA_TASK, "f.jsonl:1")])
    rows = [t.to_row() for t in load_tasks(inbox)]
    assert [{k: v for k, v in row.items() if k != "added_at"} for row in rows] == [PYTHON_TASK, JAVA_TASK]


def test_each_task_is_stamped_when_added_and_keeps_its_stamp_when_added_again(tmp_path):
    inbox = tmp_path / "inbox.jsonl"
    monday, tuesday = datetime(2026, 11, 23, 9, tzinfo=UTC), datetime(2026, 11, 24, 9, tzinfo=UTC)
    add_to_inbox(inbox, [task()], now=monday)
    again = add_to_inbox(inbox, [task(), parse_task(JAVA_TASK, "f.jsonl:2")], now=tuesday)
    assert again.duplicates == ["gcd"] and again.added == ["java-gcd"]
    assert {t.id: t.added_at for t in load_tasks(inbox)} == {
        "gcd": "2026-11-23T09:00:00.000+00:00",
        "java-gcd": "2026-11-24T09:00:00.000+00:00",
    }
