"""The schema of every JSONL file the stages write: one dataclass per file.

Ids are stable and readable: a sample is `<problem id>#s<i>` (a debugging task's given buggy
code: `<task id>#bug`), a refinement of it `<sample id>#<kind><j>` with kind `er` (explain then
refine) or `r` (refine only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum


class Kind(StrEnum):
    """What a refinement answer holds: the refined code alone, or an explanation, then the code."""

    REFINE = "refine"
    EXPLAIN_REFINE = "explain_refine"

    @property
    def explains(self) -> bool:
        return self is Kind.EXPLAIN_REFINE

    @property
    def tag(self) -> str:
        """The kind's letters in a refinement id: `r` or `er`."""
        return "er" if self.explains else "r"


UNPARSED = "unparsed"  # the status of an answer in which no code could be found


class Record:
    """JSON round-trip that rejects rows with missing fields, naming them; `Kind` fields become `Kind`s."""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: dict):
        names = [f.name for f in fields(cls)]
        missing = [name for name in names if name not in row]
        if missing:
            raise KeyError(f"{cls.__name__} row lacks field(s) {', '.join(missing)}")
        return cls(**{name: row[name] for name in names})

    def __post_init__(self) -> None:
        for field in fields(self):
            if field.type == "Kind":
                object.__setattr__(self, field.name, Kind(getattr(self, field.name)))  # ValueError names a bad kind


@dataclass(frozen=True)
class Sample(Record):
    """`data/sample/samples.jsonl`: one unique solution sampled by the policy."""

    id: str
    problem_id: str
    completion: str  # the model's raw answer
    code: str  # the program under test, parsed out of the answer
    duplicates: int  # how many of the n samples produced this same code


@dataclass(frozen=True)
class Execution(Record):
    """`data/execute_filter/{correct,wrong}.jsonl`: a sample and its verdict in the sandbox."""

    sample_id: str
    problem_id: str
    code: str
    passed: bool
    status: str
    pass_rate: float  # S_ut of the initial solution
    feedback: str  # error message or failed test, as shown to the teacher ("" when passed)
    severity: str  # syntax | runtime | resource | wrong_answer ("" when passed)


@dataclass(frozen=True)
class Refinement(Record):
    """`data/explain_refine/refinements.jsonl`: one teacher answer for a wrong sample."""

    id: str
    sample_id: str
    problem_id: str
    kind: Kind
    answer: str  # the teacher's raw answer
    explanation: str
    code: str | None  # None when no code could be parsed


@dataclass(frozen=True)
class VerifiedRefinement(Record):
    """`data/verify/trajectories.jsonl`: every refinement with its verdict (success and failure)."""

    id: str
    sample_id: str
    problem_id: str
    kind: Kind
    explanation: str
    code: str | None
    passed: bool
    status: str  # the sandbox's status, or UNPARSED
    pass_rate: float  # S_ut of the refinement


@dataclass(frozen=True)
class Preference(Record):
    """`data/feedback/preferences.jsonl`: two answers to one prompt, ranked by expert reviewers."""

    id: str  # "<chosen source>><rejected source>"
    prompt: str  # the refine request as one text: task, wrong code, execution feedback, instruction
    chosen: str
    rejected: str
    severity: str  # the bug's tier as the reviewers set it (weights the reward model's margin)
    source: str  # "correction" (a reviewer's corrected answer) or "judgments" (graded answers)
    batch: int  # the export batch of the newest judgment behind the pair


@dataclass(frozen=True)
class Demonstration(Record):
    """`data/feedback/demonstrations.jsonl`: a reviewer's corrected answer, an SFT example."""

    id: str  # "<refinement id>/review<judgment id>"
    format: str  # a Kind value: the answer's format, as in ledex.training.sft_data
    prompt: list[dict]  # the chat messages SFT trains on, ending with the user's request
    answer: str
    severity: str
    batch: int
