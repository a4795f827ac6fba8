"""What every stage does at its edges: read the problems, show progress, publish metrics."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

from ledex.pipeline.jsonl import read_jsonl, write_jsonl
from ledex.pipeline.paths import METRICS, PROBLEMS
from ledex.problems import Problem

T = TypeVar("T")


def write_problems(problems: Iterable[Problem], path: Path = PROBLEMS) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_jsonl(path, (problem.to_dict() for problem in problems))


def read_problems(path: Path = PROBLEMS) -> dict[str, Problem]:
    return {row["id"]: Problem.from_dict(row) for row in read_jsonl(path, required=("id", "language", "prompt"))}


def read_records(path: Path, record_type: type[T]) -> list[T]:
    """Rows of a stage output as records; a row lacking a field is named by file and line."""
    records = []
    for number, row in enumerate(read_jsonl(path), start=1):
        try:
            records.append(record_type.from_dict(row))
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: row {number}: {err.args[0] if err.args else err}") from None
    return records


def batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """Fixed batches by position, so a resumed run batches (and seeds) exactly as the first."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def progress(items: Iterable[T], total: int, desc: str, initial: int = 0) -> Iterator[T]:
    from tqdm import tqdm

    yield from tqdm(items, total=total, desc=desc, initial=initial, file=sys.stderr, dynamic_ncols=True)


def publish_metrics(stage: str, metrics: dict) -> None:
    """`metrics/<stage>.json` for DVC, and the numeric ones to the active MLflow run."""
    import mlflow

    METRICS.mkdir(exist_ok=True)
    (METRICS / f"{stage}.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    mlflow.log_metrics(dict(_numeric(metrics)))
    print(json.dumps(metrics, sort_keys=True))


def _numeric(metrics: dict, prefix: str = "") -> Iterator[tuple[str, float]]:
    for key, value in metrics.items():
        if isinstance(value, dict):
            yield from _numeric(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}", float(value)
