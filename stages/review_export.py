"""Stage `review-export`: the week's expert judgments as training data (`review.export`).

Judgments saved since the last export form a new batch; per batch, reviewer agreement is measured
and outlier reviewers' judgments are left out. With no review database both files are empty.
Outputs: `data/feedback/preferences.jsonl` (`records.Preference`, read by `reward-fit`),
`data/feedback/demonstrations.jsonl` (`records.Demonstration`, read by `sft`),
`metrics/review_export.json`.
"""

from __future__ import annotations

import logging

from ledex.pipeline.config import load_params
from ledex.pipeline.stage_io import publish_metrics
from ledex.pipeline.tracking import stage_run
from review.export import export_feedback


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = load_params()
    tracked = {"review": params.review.model_dump(exclude={"database"})}  # a URL may hold a password
    with stage_run("review-export", tracked, params.tracking.uri):
        publish_metrics("review_export", export_feedback(params))


if __name__ == "__main__":
    main()
