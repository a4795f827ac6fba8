"""SFT examples in chat form, with the loss on the final answer only (paper 2.2, appendix A.2).

Three formats. `solve`: a correct initial solution, asked zero-shot. `refine`: the wrong code as
the model's own earlier turn, the execution feedback, and the verified refinement as the answer.
`explain_refine`: the same conversation asking for an explanation first, answered with the
explanation then the refinement. A verified explain+refine answer yields both refinement formats
(the paper's augmentation), a verified refine-only answer the `refine` format. Expert reviewers'
corrected answers (`data/feedback/demonstrations.jsonl`, written by `review-export`) come in the
`refine` and `explain_refine` formats, already in chat form.

Masking: the prompt (every turn, with the generation prompt) and the full conversation are
tokenized with the chat template. The prompt's tokens must be a prefix of the conversation's
(checked: a template that breaks it is an error, never a silently shifted mask). Labels are -100
on that prefix and on whatever the template appends after the answer's end-of-turn token, so the
loss covers the answer and the token that ends it; never the system or user turns, nor the wrong
code shown as the model's earlier turn.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from ledex.generation.prompts import explain_refine_answer, fenced, refine_messages, solve_messages
from ledex.pipeline.records import Demonstration, Execution, Kind, VerifiedRefinement
from ledex.problems import Problem

FORMATS = ("solve", *Kind)
IGNORE_INDEX = -100  # label of a token outside the loss


class MaskingError(ValueError):
    """The chat template renders the prompt differently alone than inside the conversation."""


@dataclass(frozen=True)
class ChatExample:
    id: str  # the source record's id, then the format: "HumanEval/0#s1#er0/refine"
    format: str
    prompt: list[dict]  # chat messages, ending with the user's request
    answer: str  # the final assistant turn: the only text in the loss


def solve_example(problem: Problem, correct: Execution) -> ChatExample:
    """A correct initial solution, answered to the zero-shot solve prompt."""
    return ChatExample(
        f"{correct.sample_id}/solve", "solve", solve_messages(problem, shots=0), fenced(correct.code, problem.language)
    )


def refinement_examples(problem: Problem, wrong: Execution, verified: VerifiedRefinement) -> list[ChatExample]:
    """The refine-only example, and the explain-then-refine one when the answer had an explanation."""
    language = problem.language
    examples = [
        ChatExample(
            f"{verified.id}/refine",
            Kind.REFINE,
            refine_messages(problem, wrong.code, wrong.feedback, explain=False),
            fenced(verified.code, language),
        )
    ]
    if verified.kind.explains and verified.explanation.strip():
        examples.append(
            ChatExample(
                f"{verified.id}/explain_refine",
                Kind.EXPLAIN_REFINE,
                refine_messages(problem, wrong.code, wrong.feedback, explain=True),
                explain_refine_answer(verified.explanation, verified.code, language),
            )
        )
    return examples


def build_examples(
    problems: dict[str, Problem],
    correct: list[Execution],
    wrong: list[Execution],
    verified: list[VerifiedRefinement],
    sources: tuple[str, str, str] = ("correct.jsonl", "wrong.jsonl", "verified.jsonl"),
) -> list[ChatExample]:
    """Every example of the three formats, in input order; a bad row is an error naming file and row."""
    correct_file, wrong_file, verified_file = sources
    examples = []
    for row, execution in enumerate(correct, start=1):
        if not execution.passed:
            raise ValueError(f"{correct_file}: row {row}: sample {execution.sample_id} did not pass its tests")
        examples.append(solve_example(_problem(problems, execution.problem_id, correct_file, row), execution))
    wrong_by_sample = {execution.sample_id: execution for execution in wrong}
    for row, refinement in enumerate(verified, start=1):
        where = f"{verified_file}: row {row}: refinement {refinement.id}"
        if not refinement.passed or refinement.code is None:
            raise ValueError(f"{where} is not a verified (passing) refinement")
        if refinement.sample_id not in wrong_by_sample:
            raise ValueError(f"{where} refines sample {refinement.sample_id}, which {wrong_file} lacks")
        problem = _problem(problems, refinement.problem_id, verified_file, row)
        examples += refinement_examples(problem, wrong_by_sample[refinement.sample_id], refinement)
    return examples


def demonstration_examples(
    demonstrations: list[Demonstration], source: str = "demonstrations.jsonl"
) -> list[ChatExample]:
    """Reviewers' corrected answers as examples; a row of an unknown format is an error naming it."""
    examples = []
    for row, demonstration in enumerate(demonstrations, start=1):
        if demonstration.format not in tuple(Kind):
            raise ValueError(
                f"{source}: row {row}: demonstration {demonstration.id} has unknown format {demonstration.format!r}"
            )
        examples.append(ChatExample(demonstration.id, demonstration.format, demonstration.prompt, demonstration.answer))
    return examples


def _problem(problems: dict[str, Problem], problem_id: str, source: str, row: int) -> Problem:
    try:
        return problems[problem_id]
    except KeyError:
        raise ValueError(f"{source}: row {row}: unknown problem {problem_id!r}") from None


def unique(examples: Iterable[ChatExample]) -> list[ChatExample]:
    """The first of each identical (format, prompt, answer): samples often repeat the same fix."""
    seen, kept = set(), []
    for example in examples:
        key = json.dumps([example.format, example.prompt, example.answer])
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def cap_per_format(examples: list[ChatExample], per_format: int, seed: int) -> list[ChatExample]:
    """At most `per_format` examples of each format, drawn with a seeded shuffle (0: all of them)."""
    if not per_format:
        return examples
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    taken: Counter = Counter()
    chosen = set()
    for example in shuffled:
        if taken[example.format] < per_format:
            taken[example.format] += 1
            chosen.add(example.id)
    return [example for example in examples if example.id in chosen]


def tokenize_example(example: ChatExample, tokenizer: PreTrainedTokenizerBase) -> dict[str, list[int]]:
    """`input_ids` of the whole conversation and `labels`: the answer's ids, -100 everywhere else."""
    prompt_ids = _chat_ids(tokenizer, example.prompt, add_generation_prompt=True)
    full_ids = _chat_ids(tokenizer, [*example.prompt, {"role": "assistant", "content": example.answer}])
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise MaskingError(
            f"{example.id}: the chat template renders the prompt (with generation prompt) differently from the "
            "start of the conversation, so the answer's tokens cannot be told from the prompt's"
        )
    start = len(prompt_ids)
    end = len(full_ids)
    if tokenizer.eos_token_id in full_ids[start:]:
        end = full_ids.index(tokenizer.eos_token_id, start) + 1
    if end <= start:
        raise MaskingError(f"{example.id}: the conversation has no answer tokens after the prompt")
    labels = [IGNORE_INDEX] * start + full_ids[start:end] + [IGNORE_INDEX] * (len(full_ids) - end)
    return {"input_ids": full_ids, "labels": labels}


def _chat_ids(
    tokenizer: PreTrainedTokenizerBase, messages: list[dict], add_generation_prompt: bool = False
) -> list[int]:
    encoded = tokenizer.apply_chat_template(
        messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True
    )
    return list(encoded["input_ids"])
