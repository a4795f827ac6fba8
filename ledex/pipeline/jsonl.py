"""JSONL reading that names the file and line of bad input, and appends that survive a kill."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path


class JsonlError(ValueError):
    """A JSONL file has a line that is not a JSON object, or lacks a required field."""


def read_jsonl(path: Path | str, required: Iterable[str] = ()) -> Iterator[dict]:
    """Yield the objects of a JSONL file; blank lines are skipped, anything else must parse."""
    for _, row in numbered_jsonl(path, required):
        yield row


def numbered_jsonl(path: Path | str, required: Iterable[str] = ()) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each object of a JSONL file, as `read_jsonl` reads them.

    A line that is not UTF-8, not JSON, nested too deeply to parse, or holding a string that is
    not valid Unicode (a lone surrogate escape) is an error naming the file and line.
    """
    path = Path(path)
    required = tuple(required)
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            row = _parsed_line(path, number, raw)
            if row is None:
                continue
            missing = [field for field in required if field not in row]
            if missing:
                raise JsonlError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
            yield number, row


def tolerant_jsonl(path: Path | str) -> Iterator[tuple[int, dict | JsonlError]]:
    """Yield (line number, object or the line's `JsonlError`) for every non-blank line: a bad line
    is reported in its place and reading goes on (for per-row reports of user-written files)."""
    path = Path(path)
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            try:
                row = _parsed_line(path, number, raw)
            except JsonlError as error:
                yield number, error
                continue
            if row is not None:
                yield number, row


def _parsed_line(path: Path, number: int, raw: bytes) -> dict | None:
    """The JSON object on one line, None for a blank line; anything else is a `JsonlError`."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JsonlError(f"{path}:{number}: not valid UTF-8 (byte {err.start + 1})") from None
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except json.JSONDecodeError as err:
        raise JsonlError(f"{path}:{number}: not valid JSON ({err.msg})") from None
    except RecursionError:
        raise JsonlError(f"{path}:{number}: nested too deeply to read") from None
    if "\\u" in line and not _encodable(row):  # valid UTF-8 holds no surrogate; only a \\u escape can
        raise JsonlError(f"{path}:{number}: a string holds a lone surrogate, not valid Unicode")
    if not isinstance(row, dict):
        raise JsonlError(f"{path}:{number}: expected a JSON object, got {type(row).__name__}")
    return row


def _encodable(row: dict) -> bool:
    """Whether `row` writes back as UTF-8: JSON's \\ud800-style escapes can decode to lone surrogates."""
    try:
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def write_jsonl(path: Path | str, rows: Iterable[dict]) -> None:
    """Write rows atomically: the file appears complete or not at all."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


class JsonlAppender:
    """Appends rows one at a time, each flushed, so a killed run keeps every finished row.

    Opening drops a torn last line (one a kill cut short), so a resumed run appends cleanly.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        _drop_torn_last_line(self.path)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, row: dict) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlAppender:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _drop_torn_last_line(path: Path) -> None:
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as file:
            file.truncate(data.rfind(b"\n") + 1)
