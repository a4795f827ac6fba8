"""SFT examples: the three formats, bad rows named, and the loss mask covering the answer only."""

from __future__ import annotations

from dataclasses import replace

import pytest
from transformers import AutoTokenizer

from ledex.generation.models import cache_dir
from ledex.generation.prompts import explain_refine_answer, fenced
from ledex.pipeline.records import Execution, VerifiedRefinement
from ledex.problems import Problem
from ledex.training.sft_data import (
    IGNORE_INDEX,
    ChatExample,
    MaskingError,
    build_examples,
    cap_per_format,
    tokenize_example,
    unique,
)
from tests.conftest import CHATML, build_tiny_tokenizer

PROBLEM = Problem(
    id="toy/0",
    benchmark="toy",
    language="python",
    prompt="def add(a, b):\n",
    entry_point="add",
    test_program="",
    test_cases=("assert add(1, 2) == 3",),
)
PROBLEMS = {PROBLEM.id: PROBLEM}
WRONG_CODE = "def add(a, b):\n    return a - b"
FIXED_CODE = "def add(a, b):\n    return a + b"
FEEDBACK = "Failed test:\nassert add(1, 2) == 3"


def execution(sample_id: str, code: str, passed: bool) -> Execution:
    return Execution(
        sample_id=sample_id,
        problem_id=PROBLEM.id,
        code=code,
        passed=passed,
        status="passed" if passed else "failed",
        pass_rate=1.0 if passed else 0.0,
        feedback="" if passed else FEEDBACK,
        severity="" if passed else "wrong_answer",
    )


def verified(refinement_id: str, kind: str, explanation: str, sample_id: str = "toy/0#s1") -> VerifiedRefinement:
    return VerifiedRefinement(
        id=refinement_id,
        sample_id=sample_id,
        problem_id=PROBLEM.id,
        kind=kind,
        explanation=explanation,
        code=FIXED_CODE,
        passed=True,
        status="passed",
        pass_rate=1.0,
    )


CORRECT = [execution("toy/0#s0", FIXED_CODE, True)]
WRONG = [execution("toy/0#s1", WRONG_CODE, False)]
VERIFIED = [
    verified("toy/0#s1#er0", "explain_refine", "It subtracts instead of adding."),
    verified("toy/0#s1#er1", "explain_refine", "  "),  # no explanation: refine-only format alone
    verified("toy/0#s1#r0", "refine", ""),
]


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


def test_each_source_yields_its_formats():
    examples = build_examples(PROBLEMS, CORRECT, WRONG, VERIFIED)
    assert [(e.id, e.format) for e in examples] == [
        ("toy/0#s0/solve", "solve"),
        ("toy/0#s1#er0/refine", "refine"),
        ("toy/0#s1#er0/explain_refine", "explain_refine"),
        ("toy/0#s1#er1/refine", "refine"),
        ("toy/0#s1#r0/refine", "refine"),
    ]
    solve, refine, explain = examples[:3]
    assert [m["role"] for m in solve.prompt] == ["system", "user"]  # zero-shot
    assert solve.answer == fenced(FIXED_CODE, "python")
    assert refine.prompt[2] == {"role": "assistant", "content": fenced(WRONG_CODE, "python")}
    assert FEEDBACK in refine.prompt[3]["content"] and "explain" not in refine.prompt[3]["content"]
    assert refine.answer == fenced(FIXED_CODE, "python")
    assert "explain" in explain.prompt[3]["content"]
    assert explain.answer == explain_refine_answer("It subtracts instead of adding.", FIXED_CODE, "python")


@pytest.mark.parametrize(
    "correct, verified_rows, message",
    [
        ([execution("toy/0#s0", FIXED_CODE, False)], [], "correct.jsonl: row 1: sample toy/0#s0 did not pass"),
        (
            [],
            [verified("toy/0#s1#er0", "explain_refine", "x", sample_id="toy/0#s9")],
            "verified.jsonl: row 1: refinement toy/0#s1#er0 refines sample toy/0#s9, which wrong.jsonl lacks",
        ),
        ([], [replace(VERIFIED[0], problem_id="toy/7")], "verified.jsonl: row 1: unknown problem 'toy/7'"),
    ],
)
def test_a_bad_row_is_an_error_naming_file_and_row(correct, verified_rows, message):
    with pytest.raises(ValueError, match=message):
        build_examples(PROBLEMS, correct, WRONG, verified_rows)


def test_duplicates_are_dropped_and_formats_capped():
    examples = build_examples(PROBLEMS, CORRECT, WRONG, VERIFIED)
    distinct = unique(examples)  # the three refine-only answers are one and the same fix
    assert [e.id for e in distinct] == ["toy/0#s0/solve", "toy/0#s1#er0/refine", "toy/0#s1#er0/explain_refine"]
    many = [ChatExample(f"x{i}", "refine" if i % 3 else "solve", [], str(i)) for i in range(30)]
    capped = cap_per_format(many, 4, seed=0)
    assert sum(e.format == "refine" for e in capped) == 4 and sum(e.format == "solve" for e in capped) == 4
    assert capped == cap_per_format(many, 4, seed=0) != cap_per_format(many, 4, seed=1)
    assert [e.id for e in capped] == sorted((e.id for e in capped), key=lambda i: int(i[1:]))  # input order kept
    assert cap_per_format(many, 0, seed=0) == many


def answer_and_prompt(row: dict, tokenizer) -> tuple[str, str]:
    """The text under the loss, and the text before its first labelled token."""
    labelled = [i for i, label in enumerate(row["labels"]) if label != IGNORE_INDEX]
    assert labelled == list(range(labelled[0], labelled[-1] + 1))  # one contiguous span
    assert all(row["labels"][i] == row["input_ids"][i] for i in labelled)
    return tokenizer.decode(row["input_ids"][labelled[0] : labelled[-1] + 1]), tokenizer.decode(
        row["input_ids"][: labelled[0]]
    )


def test_labels_cover_exactly_the_answer_and_its_end_of_turn(tokenizer):
    for example in build_examples(PROBLEMS, CORRECT, WRONG, VERIFIED):
        row = tokenize_example(example, tokenizer)
        answer, before = answer_and_prompt(row, tokenizer)
        assert answer == example.answer + "<|im_end|>"
        assert before == tokenizer.apply_chat_template(example.prompt, add_generation_prompt=True, tokenize=False)
        assert row["labels"][-1] == IGNORE_INDEX  # the newline the template puts after the turn


def test_the_wrong_code_shown_as_the_models_own_turn_is_masked(tokenizer):
    refine = build_examples(PROBLEMS, [], WRONG, VERIFIED[:1])[0]
    row = tokenize_example(refine, tokenizer)
    answer, before = answer_and_prompt(row, tokenizer)
    wrong_turn = "<|im_start|>assistant\n" + fenced(WRONG_CODE, "python") + "<|im_end|>"
    assert wrong_turn in before and WRONG_CODE not in answer
    assert before.count("<|im_start|>assistant") == 2  # the wrong turn, then the generation prompt


def test_a_template_that_renders_the_prompt_differently_is_refused(tokenizer):
    thinking = CHATML.replace("<|im_start|>assistant\n{% endif %}", "<|im_start|>assistant\n<think></think>{% endif %}")
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = thinking
    example = build_examples(PROBLEMS, CORRECT, [], [])[0]
    with pytest.raises(MaskingError, match="toy/0#s0/solve: the chat template renders the prompt"):
        tokenize_example(example, tokenizer)


@pytest.mark.real_model
@pytest.mark.parametrize("preset", ["qwen2.5-coder-0.5b-instruct", "smollm2-135m-instruct"])
def test_real_chat_templates_mask_the_answer_only(preset):
    checkpoint = cache_dir() / preset
    if not checkpoint.is_dir():
        pytest.skip(f"{preset} is not converted in {cache_dir()}")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    for example in build_examples(PROBLEMS, CORRECT, WRONG, VERIFIED):
        answer, _ = answer_and_prompt(tokenize_example(example, tokenizer), tokenizer)
        assert answer == example.answer + tokenizer.eos_token


def test_reviewers_demonstrations_become_examples_of_their_format():
    from ledex.pipeline.records import Demonstration
    from ledex.training.sft_data import demonstration_examples

    prompt = [{"role": "user", "content": "Fix it."}]
    rows = [
        Demonstration(
            "P/0#s0#er1/review3", "explain_refine", prompt, "Explanation: x\n\n```python\npass\n```", "runtime", 1
        )
    ]
    [example] = demonstration_examples(rows)
    assert (example.id, example.format, example.prompt, example.answer) == (
        rows[0].id,
        "explain_refine",
        prompt,
        rows[0].answer,
    )
    with pytest.raises(ValueError, match="demonstrations.jsonl: row 1: demonstration d has unknown format 'solve'"):
        demonstration_examples([Demonstration("d", "solve", prompt, "a", "runtime", 1)])
