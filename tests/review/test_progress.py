"""`ledex review status`: the current batch's judgments, reviewers per item and agreement."""

from __future__ import annotations

from flows.cli import main
from ledex.pipeline.config import Params, ReviewParams
from review.export import export_feedback

from .test_export import GOOD, first_week, judge


def test_status_reports_the_batch_since_the_last_export(review_db, tmp_path, capsys):
    params = tmp_path / "params.yaml"
    params.write_text(f"review:\n  database: {review_db}\n")
    first_week(review_db)  # ada, bo and cy judge er0 and er1; cy disagrees

    assert main(["--params", str(params), "review", "status"]) == 0
    text = capsys.readouterr().out
    assert "Current batch (no export yet): 6 judgment(s)" in text
    assert "Items: 2 of 4 judged in this batch" in text and "by 3 reviewer(s): 2 item(s)" in text
    assert "Reviewers (items judged): ada 2, bo 2, cy 2" in text and "outliers: cy" in text

    export_feedback(Params(review=ReviewParams(database=review_db)))
    judge(review_db, "bo", "P/0#s0#r0", **GOOD)
    assert main(["--params", str(params), "review", "status"]) == 0
    text = capsys.readouterr().out
    assert "Current batch (since export batch 1): 1 judgment(s)" in text and "by 1 reviewer(s): 1 item(s)" in text
    assert "grades n/a" in text  # one reviewer: nothing to agree on yet
