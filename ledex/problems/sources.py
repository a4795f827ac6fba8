"""Where benchmark rows come from: a local file in the Hub's schema, or the Hugging Face Hub.

Each row comes with its split and its location (file and line, or Hub row index), so that
loaders can name the row in errors and in the records they build.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Origin = Literal["local", "hub"]


class BenchmarkDataError(ValueError):
    """A benchmark file or row cannot be read; the message names where it is."""


@dataclass(frozen=True)
class HubDataset:
    """A dataset on the Hugging Face Hub.

    `data_file` ("{split}.jsonl") reads the repository's raw per-split files instead of its
    loading script, for repositories that still ship one (`datasets` no longer runs scripts).
    """

    repo: str
    config: str | None = None
    data_file: str | None = None
    split: str | None = None  # the one Hub split holding every row, when a loader splits rows by id

    def __str__(self) -> str:
        return f"{self.repo}[{self.config}]" if self.config else self.repo


@dataclass(frozen=True)
class DataSource:
    """A benchmark's rows: on the Hub, and as a local file in the same schema.

    `local_file` is relative to the data directory (absolute for data shipped in a package);
    with a "{split}" placeholder each split has its own file, otherwise one file holds them all.
    """

    hub: HubDataset
    local_file: str
    splits: tuple[str, ...] = ("test",)


@dataclass(frozen=True)
class SourceRow:
    data: dict
    split: str | None  # None: the row's file holds several splits and does not say which
    location: str


def read_rows(source: DataSource, origin: Origin, data_dir: Path | None, split: str | None) -> Iterator[SourceRow]:
    """Every row of `split` (or of all splits), from the local file(s) or from the Hub."""
    splits = source.splits if split is None else (split,)
    if origin == "hub":
        if source.hub.split:
            yield from _hub_rows(source.hub, source.hub.split)
            return
        for name in splits:
            yield from _hub_rows(source.hub, name)
    elif origin == "local":
        if "{split}" not in source.local_file:
            yield from _file_rows(_local_path(source, data_dir, split=None), _single_split(source))
            return
        for name in splits:
            yield from _file_rows(_local_path(source, data_dir, split=name), name)
    else:
        raise ValueError(f"unknown source {origin!r}; expected 'local' or 'hub'")


def local_paths(source: DataSource, data_dir: Path | None, split: str | None) -> list[Path]:
    """The local file(s) holding `split` (or every split)."""
    if "{split}" not in source.local_file:
        return [_resolve(source.local_file, data_dir)]
    return [_resolve(source.local_file.format(split=name), data_dir) for name in ((split,) if split else source.splits)]


def _resolve(relative: str, data_dir: Path | None) -> Path:
    path = Path(relative)
    return path if path.is_absolute() or data_dir is None else Path(data_dir) / path


def _single_split(source: DataSource) -> str | None:
    return source.splits[0] if len(source.splits) == 1 else None


def _local_path(source: DataSource, data_dir: Path | None, split: str | None) -> Path:
    relative = Path(source.local_file.format(split=split))
    if not relative.is_absolute() and data_dir is None:
        raise BenchmarkDataError(f"reading {source.local_file} needs a data_dir")
    path = relative if relative.is_absolute() else Path(data_dir) / relative
    if not path.is_file():
        which = f"split {split}" if split else "all splits"
        raise BenchmarkDataError(
            f"{path} not found. Save the Hub dataset {source.hub} ({which}) there as JSON lines, "
            f"e.g. with `datasets.load_dataset(...).to_json({str(path)!r})`, or load with "
            f"source='hub'."
        )
    return path


def _file_rows(path: Path, split: str | None) -> Iterator[SourceRow]:
    """Rows of a JSON-lines file (gzipped when it ends in .gz) or of one JSON array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as file:
        is_array = file.readline().lstrip().startswith("[")
        file.seek(0)
        if is_array:
            located = ((f"{path} item {i}", row) for i, row in enumerate(_parse(file.read(), str(path))))
        else:
            located = (
                (f"{path}:{number}", _parse(line, f"{path}:{number}"))
                for number, line in enumerate(file, start=1)
                if line.strip()
            )
        for location, row in located:
            yield SourceRow(_object(row, location), split, location)


def _parse(text: str, location: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BenchmarkDataError(f"{location}: not valid JSON ({error})") from None


def _object(row, location: str) -> dict:
    if not isinstance(row, dict):
        raise BenchmarkDataError(f"{location}: expected a JSON object, got {type(row).__name__}")
    return row


def _hub_rows(hub: HubDataset, split: str) -> Iterator[SourceRow]:
    import datasets  # slow to import; only Hub loading needs it

    if hub.data_file:
        url = f"hf://datasets/{hub.repo}/{hub.data_file.format(split=split)}"
        dataset = datasets.load_dataset("json", data_files={split: url}, split=split)
    else:
        dataset = datasets.load_dataset(hub.repo, hub.config, split=split)
    for index, row in enumerate(dataset):
        yield SourceRow(row, split, f"{hub} {split} row {index}")
