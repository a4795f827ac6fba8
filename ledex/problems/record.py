"""The one problem record every benchmark loader produces, whatever the language."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """A programming problem with its tests.

    `prompt` is what a model sees. For completion-style benchmarks (HumanEval, MultiPL-E) the
    model's output continues `prompt` and generation ends at one of `stop_tokens`; for
    description-style ones (MBPP, APPS, CodeContests) the model writes a whole program.
    `completion_style` says which.
    Tests come in one of three shapes:
    - `test_cases`: individual Python checks (MBPP's test_list, HumanEval's asserts one by one),
      run in one namespace after `test_setup`;
    - `test_program`: the benchmark's whole test code, used when the benchmark has no separate
      cases (MultiPL-E); kept for every benchmark that has one;
    - `io_cases`: (stdin, expected stdout) pairs for standard-input problems (APPS, CodeContests).
    `preamble` runs before every program, as the benchmark's own harness has it (APPS imports
    what LeetCode-style solutions take for granted).
    `evaluation_only` problems must never become training data (MultiPL-E's licence).
    `source` says where the record was read from: a file and line, or a Hub row.
    """

    id: str
    benchmark: str
    language: str
    prompt: str
    entry_point: str | None
    test_program: str
    test_cases: tuple[str, ...] = ()
    test_setup: str = ""
    io_cases: tuple[tuple[str, str], ...] = ()
    canonical_solution: str | None = None
    completion_style: bool = True
    stop_tokens: tuple[str, ...] = ()
    preamble: str = ""
    split: str = "test"
    evaluation_only: bool = False
    source: str = ""

    @property
    def has_tests(self) -> bool:
        return bool(self.test_cases or self.test_program or self.io_cases)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict) -> Problem:
        row = dict(row)
        row["test_cases"] = tuple(row.get("test_cases", ()))
        row["io_cases"] = tuple((stdin, stdout) for stdin, stdout in row.get("io_cases", ()))
        row["stop_tokens"] = tuple(row.get("stop_tokens", ()))
        return cls(**row)
