import pytest

from ledex.pipeline.jsonl import JsonlAppender, JsonlError, read_jsonl, write_jsonl


def test_bad_json_names_file_and_line(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "a", "completion": "x"}\n\n{"task_id": oops}\n')
    with pytest.raises(JsonlError, match=r"samples.jsonl:3: not valid JSON"):
        list(read_jsonl(path))


def test_missing_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "samples.jsonl"
    path.write_text('{"task_id": "a"}\n')
    with pytest.raises(JsonlError, match=r"samples.jsonl:1: missing field\(s\) completion"):
        list(read_jsonl(path, required=("task_id", "completion")))


def test_non_object_line_is_rejected(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text("[1, 2]\n")
    with pytest.raises(JsonlError, match="rows.jsonl:1: expected a JSON object, got list"):
        list(read_jsonl(path))


def test_write_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"a": 1}, {"b": "ü"}])
    assert list(read_jsonl(path)) == [{"a": 1}, {"b": "ü"}]
    assert not (tmp_path / "out.jsonl.tmp").exists()


def test_appender_drops_a_line_torn_by_a_kill(tmp_path):
    path = tmp_path / "ckpt.jsonl"
    path.write_text('{"index": 0}\n{"index": 1, "pas')
    with JsonlAppender(path) as out:
        out.append({"index": 1})
    assert list(read_jsonl(path)) == [{"index": 0}, {"index": 1}]
