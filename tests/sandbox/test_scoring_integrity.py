"""Programs that try to be scored as passed without passing: none may succeed, and the
sandbox must score the programs after them correctly."""

from __future__ import annotations

from textwrap import dedent

import pytest

from sandbox import Job, Status

# Each program defines add(a, b) wrongly (or not at all) and tries to pass anyway.
FAKE_EQUAL = "class Anything:\n    def __eq__(self, other):\n        return True\n"
ATTACKS = {
    "os._exit(0) at import": "import os\nos._exit(0)\n",
    "os._exit(0) in the function": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "sys.exit(0) at import": "import sys\nsys.exit(0)\n",
    "SystemExit in the function": "def add(a, b):\n    raise SystemExit(0)\n",
    "KeyboardInterrupt in the function": "def add(a, b):\n    raise KeyboardInterrupt\n",
    "killing the parent": "import os\ndef add(a, b):\n    os.kill(os.getppid(), 9)\n    return 0\n",
    "killing every process": "import os\ndef add(a, b):\n    os.kill(-1, 9)\n    return 0\n",
    "killing its process group": "import os\nos.killpg(0, 9)\n",
    "killing itself": "import os\nos.kill(os.getpid(), 9)\n",
    "interrupting the fork server": "import os\nos.kill(1, 2)\nos.kill(1, 15)\nadd = lambda a, b: 0\n",  # INT, TERM
    "forged report lines": dedent("""\
        import os
        for nonce in ('0' * 32, 'nonce', ''):
            os.write(3, f'{nonce} test 0 passed -\\n{nonce} complete 0 - -\\n'.encode())
            print(f'{nonce} complete 0 - -')
        os._exit(0)
    """),
    "a forked copy exits early": "import os\nif os.fork():\n    os._exit(0)\ndef add(a, b):\n    return 0\n",
    "__eq__ that always holds": FAKE_EQUAL + "def add(a, b):\n    return Anything()\n",
    "__ne__ faked too": FAKE_EQUAL + "    __ne__ = lambda self, other: False\nadd = lambda a, b: Anything()\n",
    "an int subclass": "class Three(int):\n    __eq__ = lambda self, other: True\nadd = lambda a, b: Three(0)\n",
    "a str subclass": "class Text(str):\n    __eq__ = lambda self, other: True\nadd = lambda a, b: Text('0')\n",
    "a list holding a fake": FAKE_EQUAL + "def add(a, b):\n    return [Anything()][0]\n",
    "a spoofed __class__": FAKE_EQUAL + "    __class__ = property(lambda self: int)\nadd = lambda a, b: Anything()\n",
    "patched builtins": dedent("""\
        import builtins
        builtins.isinstance = lambda *args: True
        builtins.len = lambda x: 3
        def add(a, b):
            return 0
    """),
    "a replaced __builtins__": "__builtins__ = {'len': lambda x: 3}\ndef add(a, b):\n    return 0\n",
    "a patched module the tests import": "import operator\noperator.eq = lambda a, b: True\nadd = lambda a, b: 0\n",
}
# Tests written the ways datasets write them; a wrong `add` must fail every one.
TESTS = (
    "assert add(1, 2) == 3",
    "assert not add(1, 2) != 3",
    "assert isinstance(add(1, 2), int) and len([add(1, 2)]) == 1 and add(1, 2) == 3",
    "import operator\nassert operator.eq(add(1, 2), 3)",
)


@pytest.mark.parametrize("attack", list(ATTACKS), ids=list(ATTACKS))
def test_attacks_never_pass(lone_sandbox, still_scores_right, attack):
    verdict = lone_sandbox.run(Job("python", ATTACKS[attack], test_cases=TESTS))
    assert not verdict.passed
    assert verdict.status is not Status.PASSED
    assert not all(test.passed for test in verdict.tests)
    still_scores_right(lone_sandbox)


def test_a_correct_program_that_prints_and_forks_still_passes(lone_sandbox):
    program = dedent("""\
        import os
        print('debug output ' * 100)
        if os.fork() == 0:
            os._exit(0)
        os.wait()
        def add(a, b):
            return a + b
    """)
    verdict = lone_sandbox.run(Job("python", program, test_cases=TESTS))
    assert verdict.passed, verdict.message


def test_an_untrusted_result_is_named_in_the_message(lone_sandbox):
    verdict = lone_sandbox.run(Job("python", ATTACKS["__eq__ that always holds"], test_cases=TESTS[:1]))
    assert verdict.status is Status.FAILED
    assert verdict.message.startswith("assert add(1, 2) == 3\n  actual: a value of type Anything; tests only trust")


def test_early_exit_is_reported_as_such(lone_sandbox):
    verdict = lone_sandbox.run(Job("python", ATTACKS["os._exit(0) in the function"], test_cases=TESTS))
    assert verdict.status is Status.RUNTIME_ERROR
    assert "the program's process ended during the call" in verdict.message


def test_signals_to_the_fork_server_are_ignored(lone_sandbox):
    verdict = lone_sandbox.run(Job("python", ATTACKS["interrupting the fork server"], test_cases=TESTS[:1]))
    assert verdict.status is Status.FAILED, verdict.message  # scored normally: the worker was not lost


def test_counter_and_match_results_are_scored_like_their_values(sandbox):
    program = (
        "import collections, re\n"
        "def freq(xs):\n    return collections.Counter(xs)\n"
        "def has_a(text):\n    return re.search('a', text)\n"
    )
    verdict = sandbox.run(
        Job("python", program, test_cases=("assert freq([1, 1, 2]) == {1: 2, 2: 1}", "assert has_a('cat')"))
    )
    assert verdict.passed, verdict


def test_a_patched_counter_cannot_fake_equality(sandbox):
    program = (
        "import collections\n"
        "collections.Counter.__eq__ = lambda self, other: True\n"
        "collections.Counter.keys = lambda self: ['x']\n"
        "def freq(xs):\n    return collections.Counter(xs)\n"
    )
    verdict = sandbox.run(Job("python", program, test_cases=("assert freq([1]) == {9: 9}",)))
    assert not verdict.passed
