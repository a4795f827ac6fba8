"""Records: a refinement's kind is a `Kind`, and a bad row is an error naming the file and row."""

from __future__ import annotations

import json

import pytest

from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.records import Kind, Refinement, VerifiedRefinement
from ledex.pipeline.stage_io import read_records

ROW = {
    "id": "P/0#s0#er0",
    "sample_id": "P/0#s0",
    "problem_id": "P/0",
    "kind": "explain_refine",
    "answer": "It adds one too many.\n```python\nx = 1\n```",
    "explanation": "It adds one too many.",
    "code": "x = 1",
}


def test_kinds_read_from_jsonl_are_kinds_and_write_back_as_plain_strings(tmp_path):
    path = tmp_path / "refinements.jsonl"
    write_jsonl(path, [ROW, ROW | {"id": "P/0#s0#r0", "kind": "refine", "explanation": ""}])
    explain, refine = read_records(path, Refinement)
    assert explain.kind is Kind.EXPLAIN_REFINE and explain.kind.explains and explain.kind.tag == "er"
    assert refine.kind is Kind.REFINE and not refine.kind.explains and refine.kind.tag == "r"
    assert json.loads(json.dumps(refine.to_dict()))["kind"] == "refine"


@pytest.mark.parametrize(
    "change, message",
    [
        ({"kind": "rewrite"}, r"refinements.jsonl: row 2: 'rewrite' is not a valid Kind"),
        ({"kind": None}, r"refinements.jsonl: row 2: None is not a valid Kind"),
    ],
)
def test_a_row_of_unknown_kind_names_file_and_row(tmp_path, change, message):
    path = tmp_path / "refinements.jsonl"
    write_jsonl(path, [ROW, ROW | change])
    with pytest.raises(ValueError, match=message):
        read_records(path, Refinement)


def test_a_missing_field_names_file_row_and_field(tmp_path):
    path = tmp_path / "trajectories.jsonl"
    write_jsonl(path, [{k: v for k, v in ROW.items() if k != "answer"}])
    with pytest.raises(ValueError, match=r"trajectories.jsonl: row 1: VerifiedRefinement row lacks field\(s\) passed"):
        read_records(path, VerifiedRefinement)
