"""HumanEval+ and MBPP+ (EvalPlus, Liu et al., 2023): the original problems with many more test inputs.

Two formats are read:
- EvalPlus's release JSONL (`HumanEvalPlus.jsonl`, `MbppPlus.jsonl`): task_id, prompt, entry_point,
  canonical_solution, base_input, plus_input, atol. The release holds inputs only; as EvalPlus
  does, the expected output of an input is what the canonical solution returns for it. Here that
  call happens inside the test program, in the sandbox beside the candidate's (never in-process
  at load time): each input is one test case, `_check(*args)`, comparing the candidate's output
  with the reference's exactly, or within `atol` (at least 1e-6 for floats) as EvalPlus does.
  HumanEval/32 (`find_zero`) keeps EvalPlus's special oracle (|poly(xs, x)| <= atol); MBPP+'s
  special oracles (tasks 164, 295, 558, 581 and the set- and not-None-equal ones) are not
  reproduced, so those tasks demand the reference's exact output.
- The Hub datasets (`evalplus/humanevalplus`, `evalplus/mbppplus`), whose `test` program embeds
  the inputs with outputs EvalPlus computed: it runs whole, as one test (`test_program`).
MBPP+ keeps MBPP's task ids (`mbpp/<n>`) and splits by id, so a run that trains on MBPP's train
split is refused an MBPP+ evaluation holding the same tasks; evaluate `split: test`.
The reference runs in the candidate's process: a candidate could call it. This guards nothing.
"""

from __future__ import annotations

from ledex.problems import mbpp
from ledex.problems.record import Problem
from ledex.problems.sources import SourceRow

# MBPP+ serialises tuples, sets and complex numbers as JSON lists and strings; EvalPlus turns them
# back per task (evalplus/data/mbpp.py, mbpp_deserialize_inputs). Task ids by transform:
_TUPLE_ARGS = {
    2,
    116,
    132,
    143,
    222,
    261,
    273,
    394,
    399,
    421,
    424,
    429,
    470,
    560,
    579,
    596,
    616,
    630,
    726,
    740,
    744,
    809,
}
_TUPLES_IN_ARGS = {63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780}
_FIRST_ARG_TUPLES = {75, 413, 444, 753}
_SECOND_ARG_TUPLE = {106, 750}
_FIRST_ARG_TUPLE = {250, 405, 446, 617, 720, 763, 808}
_NESTED_TUPLE_ARGS = {259, 401, 445}
_ALL_TUPLES = {580, 615, 791}

# Runs after the candidate's program: the reference in a namespace of its own, and the comparison.
_HARNESS = """\
import copy as _copy
import math as _math

inf, nan = float("inf"), float("nan")
_reference_namespace = {{}}
exec(compile({reference!r}, "<canonical solution>", "exec"), _reference_namespace)
_reference = _reference_namespace[{entry_point!r}]


def _is_floats(value):
    if isinstance(value, float):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, float) for v in value)


def _close(out, expected, atol):
    if type(out) is not type(expected):
        return False
    if isinstance(expected, (list, tuple)):
        return len(out) == len(expected) and all(_close(o, e, atol) for o, e in zip(out, expected))
    return _math.isclose(out, expected, rel_tol=1e-7, abs_tol=atol) or out == expected


def _check(*args):
    atol = {atol!r}
    out = {entry_point}(*_copy.deepcopy(args))
    if {entry_point!r} == "find_zero":  # EvalPlus's oracle: any root will do
        assert abs(_reference_namespace["poly"](*args, out)) <= atol, f"find_zero{{args!r}} = {{out!r}} is no root"
        return
    expected = _reference(*_copy.deepcopy(args))
    if atol == 0 and _is_floats(expected):
        atol = 1e-6
    assert out == expected or (atol and _close(out, expected, atol)), (
        f"{entry_point}{{args!r}} returned {{out!r}}, expected {{expected!r}}"
    )
"""


def humaneval_plus_to_problem(row: SourceRow, benchmark: str) -> Problem:
    """A row of HumanEvalPlus.jsonl (release) or of the Hub's evalplus/humanevalplus."""
    fields = row.data
    entry_point = fields["entry_point"]
    if "plus_input" in fields:
        reference = fields["prompt"] + fields["canonical_solution"]
        setup, cases = _harness(reference, entry_point, fields["atol"], fields["base_input"] + fields["plus_input"])
        test_program = ""
    else:  # its check() loops over inputs and results: one test
        setup, cases = "", ()
        test_program = f"{fields['test']}\n\ncheck({entry_point})\n"
    return Problem(
        id=fields["task_id"],
        benchmark=benchmark,
        language="python",
        prompt=fields["prompt"],
        entry_point=entry_point,
        test_program=test_program,
        test_cases=cases,
        test_setup=setup,
        canonical_solution=fields["canonical_solution"],
        split=row.split or "test",
        source=row.location,
    )


def mbpp_plus_to_problem(row: SourceRow, benchmark: str) -> Problem:
    """A row of MbppPlus.jsonl (release) or of the Hub's evalplus/mbppplus; MBPP's prompt and split."""
    fields = row.data
    task_id = int(str(fields["task_id"]).removeprefix("Mbpp/"))
    if "plus_input" in fields:
        text, asserts = _mbpp_description(fields["prompt"])
        entry_point = fields["entry_point"]
        code = fields["canonical_solution"]
        inputs = [_deserialize(task_id, args) for args in fields["base_input"] + fields["plus_input"]]
        setup, cases = _harness(code, entry_point, fields["atol"], inputs)
        test_program = ""
    else:
        text, asserts = fields["prompt"], list(fields["test_list"])
        code = fields["code"]
        setup = "\n".join(fields["test_imports"])
        entry_point = mbpp.called_function(asserts, setup)
        cases = ()  # its test program loops over inputs and results: one test
        test_program = f"{setup}\n{fields['test']}\n"
    return Problem(
        id=f"mbpp/{task_id}",
        benchmark=benchmark,
        language="python",
        prompt=mbpp.PROMPT_TEMPLATE.format(text=text, tests="\n".join(asserts)),
        entry_point=entry_point,
        test_program=test_program,
        test_cases=cases,
        test_setup=setup,
        canonical_solution=code,
        completion_style=False,
        split=mbpp.split_of(task_id),
        source=row.location,
    )


def _harness(reference: str, entry_point: str, atol: float, inputs: list) -> tuple[str, tuple[str, ...]]:
    """(setup, one `_check(...)` case per input): `repr` writes tuples, sets and complex numbers as
    Python reads them back; inf and nan are names the setup defines."""
    if not inputs:
        raise ValueError("no test input")
    setup = _HARNESS.format(reference=reference, entry_point=entry_point, atol=float(atol))
    return setup, tuple(f"_check(*{list(args)!r})" for args in inputs)


def _mbpp_description(prompt: str) -> tuple[str, list[str]]:
    """MBPP+'s prompt is a docstring: the task's text, then its example assert."""
    lines = [line.strip() for line in prompt.strip().strip('"').strip().splitlines() if line.strip()]
    return " ".join(line for line in lines if not line.startswith("assert")), [
        line for line in lines if line.startswith("assert")
    ]


def _deserialize(task_id: int, args: list) -> list:
    """One MBPP+ input as the canonical solution expects it (EvalPlus's mbpp_deserialize_inputs)."""
    if task_id in _TUPLE_ARGS:
        return [tuple(arg) for arg in args]
    if task_id in _TUPLES_IN_ARGS:
        return [[tuple(item) for item in arg] for arg in args]
    if task_id in _FIRST_ARG_TUPLES:
        return [[tuple(item) for item in args[0]], args[1]]
    if task_id in _SECOND_ARG_TUPLE:
        return [args[0], tuple(args[1])]
    if task_id in _FIRST_ARG_TUPLE:
        return [tuple(args[0]), args[1]]
    if task_id in _NESTED_TUPLE_ARGS:
        return [tuple(tuple(item) for item in arg) for arg in args]
    if task_id in _ALL_TUPLES:
        return list(_tuples(args))
    if task_id == 115:
        return [[set(item) if isinstance(item, list) and item else {} for item in args[0]]]
    if task_id == 124:
        return [float(args[0]), complex(args[1])]
    if task_id == 252:
        return [complex(args[0])]
    if task_id == 278:
        return [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])]
    if task_id == 307:
        return [tuple(args[0]), args[1], args[2]]
    if task_id == 722:
        return [{key: tuple(value) for key, value in args[0].items()}, *args[1:]]
    return args


def _tuples(value):
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
