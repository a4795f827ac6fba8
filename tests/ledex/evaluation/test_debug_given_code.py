"""Refinement chains from given wrong code, with the real sandbox and a scripted model: the code's
own feedback is what the first refinement sees, a passing program starts no chain, and a chain
goes on to the next round only while its code fails."""

from ledex.evaluation.self_debug import INIT, debug_given_code
from ledex.generation import SamplingParams, make_generator
from ledex.pipeline.records import Kind
from ledex.problems.tasks import parse_task
from sandbox import Sandbox, SandboxConfig
from tests.ledex.problems.test_tasks import PYTHON_TASK
from tests.scripted_server import scripted_server


def answer(messages: list[dict], index: int) -> str:
    """Round 1 (shown the buggy code) answers wrong code; round 2 (shown that) the fix."""
    wrong = messages[2]["content"]
    code = PYTHON_TASK["fix"] if "return a\n" in wrong else "def gcd(a, b):\n    return a\n"
    return f"Explanation: try this.\n\n```python\n{code}```"


def test_chains_start_from_the_given_code_and_stop_once_fixed():
    task = parse_task(PYTHON_TASK, "t:1").problem
    with scripted_server(answer) as base_url, Sandbox(SandboxConfig(workers=1)) as sandbox:
        attempts = debug_given_code(
            make_generator("openai", "policy", base_url=base_url, max_retries=0),
            sandbox,
            [(task, PYTHON_TASK["buggy_code"]), (task, PYTHON_TASK["fix"])],
            SamplingParams(n=2, temperature=0.8, top_p=1.0, max_new_tokens=64, seed=0),
            kinds=(Kind.EXPLAIN_REFINE,),
            rounds=3,
            timeout_s=10,
            model="policy",
            benchmark="tasks",
        )
    initial = [a for a in attempts if a.kind == INIT]
    assert [(a.sample, a.passed) for a in initial] == [(0, False), (1, False), (0, True), (1, True)]
    assert "RecursionError" in initial[0].feedback  # the buggy code's own verdict, shown to round 1
    refined = [(a.sample, a.round, a.passed) for a in attempts if a.kind != INIT]
    assert refined == [(0, 1, False), (1, 1, False), (0, 2, True), (1, 2, True)]  # no third round: both fixed
