"""A review database on pipeline outputs written by hand: two wrong solutions, four refinements."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ledex.execution.severity import SeverityWeights
from ledex.generation.prompts import refine_messages
from ledex.pipeline.config import RewardFitParams
from ledex.pipeline.jsonl import write_jsonl
from ledex.pipeline.paths import TRAJECTORIES
from ledex.pipeline.stage_io import write_problems
from ledex.problems import Problem
from review.accounts import add_reviewer
from review.db import open_engine
from review.items import load_pipeline_items
from tests.conftest import build_tiny_tokenizer, save_tiny_qwen2

SEVERITY = SeverityWeights.from_params(RewardFitParams())
WRONG = "def has_close(xs, t):\n    return any(abs(a - b) < t for a in xs for b in xs)\n"
PAIRS = "for i, a in enumerate(xs) for j, b in enumerate(xs) if i != j"
FIXED = f"def has_close(xs, t):\n    return any(abs(a - b) < t {PAIRS})\n"
NAIVE = "def has_close(xs, t):\n    return xs.has_close(t)\n"
CORRECTED = "def has_close(xs, t):\n    ys = sorted(xs)\n    return any(b - a < t for a, b in zip(ys, ys[1:]))\n"
FEEDBACK = "Failed test:\nassert has_close([1.0, 2.0], 0.5) == False"
PROBLEM = Problem(
    id="P/0",
    benchmark="toy",
    language="python",
    prompt='def has_close(xs, t):\n    """Whether two numbers of xs are closer to each other than t."""\n',
    entry_point="has_close",
    test_program="",
    test_cases=("assert has_close([1.0, 2.0], 0.5) == False", "assert has_close([1.0, 1.2, 3.0], 0.5) == True"),
)
# (refinement id, kind, explanation, code, passed); all refine wrong solution P/0#s0 but the last
REFINEMENTS = [
    ("P/0#s0#er0", "explain_refine", "Every element is compared with itself, at distance 0.", FIXED, True),
    ("P/0#s0#er1", "explain_refine", "Lists have a has_close method that does this.", NAIVE, False),
    ("P/0#s0#r0", "refine", "", FIXED, True),
    ("P/0#s1#er0", "explain_refine", "The threshold should be inclusive.", WRONG, False),
]


def write_pipeline_outputs(root) -> None:
    write_problems([PROBLEM], root / "data/sample/problems.jsonl")
    (root / "data/execute_filter").mkdir(parents=True)
    write_jsonl(
        root / "data/execute_filter/executions.jsonl",
        [
            {
                "sample_id": sample,
                "problem_id": "P/0",
                "code": WRONG,
                "passed": False,
                "status": status,
                "pass_rate": 0.0,
                "feedback": FEEDBACK,
                "severity": "",
            }
            for sample, status in (("P/0#s0", "failed"), ("P/0#s1", "runtime_error"))
        ],
    )
    (root / "data/verify").mkdir(parents=True)
    write_jsonl(
        root / "data/verify/trajectories.jsonl",
        [
            {
                "id": id_,
                "sample_id": id_.rsplit("#", 1)[0],
                "problem_id": "P/0",
                "kind": kind,
                "explanation": why,
                "code": code,
                "passed": passed,
                "status": "passed" if passed else "failed",
                "pass_rate": 1.0 if passed else 0.5,
            }
            for id_, kind, why, code, passed in REFINEMENTS
        ]
        + [
            {
                "id": "P/0#s1#r0",
                "sample_id": "P/0#s1",
                "problem_id": "P/0",
                "kind": "refine",
                "explanation": "",
                "code": None,
                "passed": False,
                "status": "unparsed",
                "pass_rate": 0.0,
            }
        ],
    )


@pytest.fixture
def review_db(tmp_path, monkeypatch):
    """The SQLite URL of a migrated database holding the refinements and reviewers ada, bo and cy;
    the working directory is `tmp_path`, where the pipeline outputs are."""
    monkeypatch.chdir(tmp_path)
    write_pipeline_outputs(tmp_path)
    url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = open_engine(url)
    with Session(engine) as session, session.begin():
        assert load_pipeline_items(session, SEVERITY, source=TRAJECTORIES) == 4  # the unparsed refinement is left out
        for name in ("ada", "bo", "cy"):
            add_reviewer(session, name, f"{name}-password")
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def tiny_reward_base(tmp_path_factory):
    """The tiny random Qwen2 with a tokenizer trained on these refinements' conversations, so a
    preference pair fits its 256 positions."""
    texts = [m["content"] for explain in (True, False) for m in refine_messages(PROBLEM, WRONG, FEEDBACK, explain)]
    texts += [why for _, _, why, _, _ in REFINEMENTS] + [FIXED, NAIVE, CORRECTED, "Explanation:", "```python"]
    return save_tiny_qwen2(
        tmp_path_factory.mktemp("tiny-reward-base"), build_tiny_tokenizer(texts * 20, vocab_size=1500)
    )
