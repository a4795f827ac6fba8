"""What lets a killed stage resume: fingerprints, resumable JSONL output, guarded trainer folders.

`ResumableOutput`: a unit (a problem, a sample, a batch) is one line of the checkpoint file: its
key and all its rows. The checkpoint lives outside the stage's outputs, which `dvc repro` clears
before a run. A killed run keeps every finished unit; the rerun skips them, and `publish` writes
the final file in the stage's own order, identical to an uninterrupted run.
`guarded_folder`: a trainer's checkpoint folder, kept only for the same inputs.
In both, a fingerprint of the inputs and settings guards the checkpoint: when they change, the
stale state is discarded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from ledex.pipeline.jsonl import JsonlAppender, read_jsonl, write_jsonl

_FINGERPRINT = "__fingerprint__"
FINGERPRINT_FILE = "fingerprint"  # in a guarded folder


def fingerprint(*parts: object) -> str:
    """A stable digest of settings and input files (paths are hashed by content)."""
    digest = hashlib.sha256()
    for part in parts:
        data = (
            Path(part).read_bytes()
            if isinstance(part, Path)
            else json.dumps(part, sort_keys=True, default=str).encode()
        )
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def directory_digest(directory: Path | str) -> str:
    """sha256 over a directory's files: their relative names and contents, read in chunks."""
    digest = hashlib.sha256()
    root = Path(directory)
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as stream:
            digest.update(hashlib.file_digest(stream, "sha256").digest())
    return digest.hexdigest()


def guarded_folder(folder: Path, fingerprint: str) -> bool:
    """Make `folder` a checkpoint folder of the inputs named by `fingerprint`: kept as it is when
    it already is one (True: resume from it), else emptied and stamped (False: start over)."""
    stamp = folder / FINGERPRINT_FILE
    if stamp.exists() and stamp.read_text() == fingerprint:
        return True
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stamp.write_text(fingerprint)
    return False


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

    def __getitem__(self, unit: str) -> list[dict]:
        return self._rows[unit]

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

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
