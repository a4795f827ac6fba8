"""A stage's metrics files (`metrics/<stage>.json`) as one Prefect markdown artifact: a table of
metric and value, nested keys joined with dots, kept under the key `metrics-<stage>`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID


def publish_metrics_artifact(stage: str, root: Path, files: tuple[Path, ...]) -> UUID | None:
    """The artifact's id, or None when the stage has no metrics file (yet)."""
    from prefect.artifacts import create_markdown_artifact

    metrics = {path: json.loads((root / path).read_text()) for path in files if (root / path).exists()}
    if not metrics:
        return None
    return create_markdown_artifact(
        markdown=metrics_table(stage, metrics),
        key=f"metrics-{re.sub(r'[^a-z0-9]+', '-', stage.lower()).strip('-')}",
        description=f"metrics of stage {stage}",
    )


def metrics_table(stage: str, metrics: dict[Path, dict]) -> str:
    lines = [f"## {stage}", ""]
    for path, values in metrics.items():
        lines += [f"`{path}`", "", "| metric | value |", "|---|---|"]
        lines += [f"| {name} | {_cell(value)} |" for name, value in _flatten(values)]
        lines.append("")
    return "\n".join(lines)


def _flatten(values: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text.replace("|", "\\|").replace("\n", " ")
