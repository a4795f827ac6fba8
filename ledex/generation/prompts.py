"""Chat prompts of the LEDEX pipeline, in one place (paper section 2.1, appendix A.1-A.2).

Three conversations: solving a problem k-shot; refining a wrong solution ("Refine"); and
explaining then refining it ("Expl. + Refine"). The wrong solution is the model's own earlier
turn, so SFT can mask it out of the loss.
"""

from __future__ import annotations

from ledex.problems import Problem

LANGUAGE_NAMES = {"python": "Python", "java": "Java", "cpp": "C++", "js": "JavaScript"}
FENCE_TAGS = {"python": "python", "java": "java", "cpp": "cpp", "js": "javascript"}

SYSTEM = "You are an expert programmer who writes correct, efficient code and explains bugs precisely."

# Three worked examples for k-shot sampling (the paper samples with 3-shot prompts).
SHOTS = (
    (
        "Write a Python function `count_vowels(text)` that returns how many vowels (a, e, i, o, u, "
        "either case) `text` contains.",
        "def count_vowels(text):\n    return sum(1 for ch in text.lower() if ch in 'aeiou')",
    ),
    (
        "Write a Python function `second_largest(numbers)` that returns the second largest distinct "
        "value of a list, or None when there is none.",
        "def second_largest(numbers):\n    distinct = sorted(set(numbers), reverse=True)\n"
        "    return distinct[1] if len(distinct) > 1 else None",
    ),
    (
        "Write a Python function `is_balanced(brackets)` that tells whether a string of (), [] and {} is balanced.",
        "def is_balanced(brackets):\n    pairs = {')': '(', ']': '[', '}': '{'}\n    stack = []\n"
        "    for ch in brackets:\n        if ch in '([{':\n            stack.append(ch)\n"
        "        elif not stack or stack.pop() != pairs[ch]:\n            return False\n"
        "    return not stack",
    ),
)

REFINE_INSTRUCTION = (
    "The code above is wrong. Here is the execution feedback:\n{feedback}\n\n"
    "Please fix the code. Answer with the complete corrected {language} solution in one code block."
)
EXPLAIN_REFINE_INSTRUCTION = (
    "The code above is wrong. Here is the execution feedback:\n{feedback}\n\n"
    "First explain briefly what is wrong with the code and why it fails. Then answer with the "
    "complete corrected {language} solution in one code block."
)
EXPLANATION_HEADER = "Explanation:"
# A solution's code block has closed: what follows is prose or usage examples, never tested, so
# generation stops there (a row that stops early frees its batch sooner).
SOLUTION_STOP = ("\n```\n",)


def fenced(code: str, language: str) -> str:
    return f"```{FENCE_TAGS[language]}\n{code.strip()}\n```"


def task_text(problem: Problem) -> str:
    """What the user asks for: complete a signature, or solve a described task."""
    language = LANGUAGE_NAMES[problem.language]
    if problem.completion_style:
        return (
            f"Complete the following {language} code. Answer with the whole function in one code "
            f"block.\n\n{fenced(problem.prompt, problem.language)}"
        )
    return f"{problem.prompt}\nAnswer with a {language} solution in one code block."


def solve_messages(problem: Problem, shots: int = 3) -> list[dict]:
    """A k-shot conversation asking for a solution to `problem`."""
    messages = [{"role": "system", "content": SYSTEM}]
    for question, answer in SHOTS[:shots]:
        messages += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": fenced(answer, "python")},
        ]
    return messages + [{"role": "user", "content": task_text(problem)}]


def refine_messages(problem: Problem, wrong_code: str, feedback: str, explain: bool) -> list[dict]:
    """The wrong solution as the model's own turn, then the request to (explain and) refine it."""
    instruction = EXPLAIN_REFINE_INSTRUCTION if explain else REFINE_INSTRUCTION
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": task_text(problem)},
        {"role": "assistant", "content": fenced(wrong_code, problem.language)},
        {
            "role": "user",
            "content": instruction.format(feedback=feedback, language=LANGUAGE_NAMES[problem.language]),
        },
    ]


def explain_refine_answer(explanation: str, code: str, language: str) -> str:
    """The target answer for SFT: explanation first, then the refined code."""
    return f"{EXPLANATION_HEADER} {explanation.strip()}\n\n{fenced(code, language)}"
