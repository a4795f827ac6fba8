"""Resumable stage output: finished units are saved as they complete, then published at once.

A unit (a problem, a sample, a batch) is one line of the checkpoint file: its key and all its
rows. The checkpoint lives outside the stage's outputs, which `dvc repro` clears before a run. A killed run keeps every finished unit; the rerun skips them, and `publish` writes the
final file in the stage's own order, identical to an uninterrupted run. A fingerprint of the
inputs and settings guards the checkpoint: when they change, the stale units are discarded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from stages.jsonl import JsonlAppender, read_jsonl, write_jsonl

_FINGERPRINT = "__fingerprint__"


def fingerprint(*parts: object) -> str:
    """A stable digest of settings and input files (paths are hashed by content)."""
    digest = hashlib.sha256()
    for part in parts:
        data = Path(part).read_bytes() if isinstance(part, Path) else json.dumps(part, sort_keys=True, default=str).encode()
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


class ResumableOutput:
    def __init__(self, path: Path | str, fingerprint: str, checkpoint_dir: Path | None = None):
        self.path = Path(path)
        partial_name = self.path.name + ".partial"
        self.partial = checkpoint_dir / partial_name if checkpoint_dir else self.path.with_name(partial_name)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self._rows = self._load(fingerprint)
        self.resumed = len(self._rows)  # finished units found from an interrupted run
        self._appender = JsonlAppender(self.partial)
        if not self._rows:
            self._appender.append({"unit": _FINGERPRINT, "rows": [fingerprint]})

    def _load(self, fingerprint: str) -> dict[str, list]:
        if not self.partial.exists():
            return {}
        JsonlAppender(self.partial).close()  # drops a line torn by a kill
        rows = {line["unit"]: line["rows"] for line in read_jsonl(self.partial, required=("unit", "rows"))}
        if rows.pop(_FINGERPRINT, None) == [fingerprint]:
            return rows
        self.partial.unlink()  # inputs or settings changed: start over
        return {}

    def __contains__(self, unit: str) -> bool:
        return unit in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, unit: str, rows: list[dict]) -> None:
        self._appender.append({"unit": unit, "rows": rows})
        self._rows[unit] = rows

    def publish(self, units_in_order: Iterable[str]) -> list[dict]:
        """Write every unit's rows, in the given order, to the output; drop the checkpoint."""
        units = list(units_in_order)
        missing = [unit for unit in units if unit not in self._rows]
        if missing:
            raise RuntimeError(f"{self.path}: cannot publish, {len(missing)} units unfinished (first: {missing[0]})")
        rows = [row for unit in units for row in self._rows[unit]]
        write_jsonl(self.path, rows)
        self.close()
        self.partial.unlink()
        return rows

    def close(self) -> None:
        self._appender.close()

    def __enter__(self) -> "ResumableOutput":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
