from ledex.pipeline.checkpoint import ResumableOutput, fingerprint
from ledex.pipeline.jsonl import read_jsonl


def test_resume_skips_finished_units_and_publishes_in_order(tmp_path):
    out = tmp_path / "rows.jsonl"
    first = ResumableOutput(out, fingerprint({"seed": 1}))
    first.add("b", [{"x": 2}])
    first.close()  # killed here
    with (tmp_path / "rows.jsonl.partial").open("a") as torn:
        torn.write('{"unit": "c", "ro')

    second = ResumableOutput(out, fingerprint({"seed": 1}))
    assert second.resumed == 1 and "b" in second and "c" not in second
    second.add("a", [{"x": 1}, {"x": 1.5}])
    second.add("c", [])
    assert second.publish(["a", "b", "c"]) == [{"x": 1}, {"x": 1.5}, {"x": 2}]
    assert list(read_jsonl(out)) == [{"x": 1}, {"x": 1.5}, {"x": 2}]
    assert not (tmp_path / "rows.jsonl.partial").exists()


def test_changed_inputs_discard_the_checkpoint(tmp_path):
    out = tmp_path / "rows.jsonl"
    with ResumableOutput(out, fingerprint({"seed": 1})) as old:
        old.add("a", [{"x": 1}])
    with ResumableOutput(out, fingerprint({"seed": 2})) as new:
        assert "a" not in new and new.resumed == 0


def test_fingerprint_hashes_file_content(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text("1")
    before = fingerprint(path)
    path.write_text("2")
    assert fingerprint(path) != before
