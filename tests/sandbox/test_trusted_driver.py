"""The trusted Python driver: helpers from the benchmark, plain data only, and nothing of one
job (memory, SysV objects, sysctls, directories) reaching the next."""

from __future__ import annotations

from textwrap import dedent

from sandbox import Job, Status, prompt_helpers

CYCLIC_PROMPT = dedent('''\
    def encode_cyclic(s: str):
        """Rotate each group of three characters."""
        groups = [s[(3 * i) : min((3 * i + 3), len(s))] for i in range((len(s) + 2) // 3)]
        groups = [(group[1:] + group[0]) if len(group) == 3 else group for group in groups]
        return "".join(groups)


    def decode_cyclic(s: str):
        """Takes as input string encoded with encode_cyclic function. Returns decoded string."""
''')
CYCLIC_TEST = dedent("""\
    import random
    rng = random.Random(3)
    for _ in range(20):
        text = ''.join(rng.choice('abcdefg') for _ in range(rng.randrange(1, 12)))
        assert decode_cyclic(encode_cyclic(text)) == text
""")


def cyclic_job(completion: str) -> Job:
    return Job(
        "python",
        CYCLIC_PROMPT + completion,
        test_program=CYCLIC_TEST,
        trusted_helpers=prompt_helpers(CYCLIC_PROMPT, "decode_cyclic"),
    )


def test_the_prompts_helpers_come_from_the_benchmark_not_the_completion(lone_sandbox):
    correct = "    return encode_cyclic(encode_cyclic(s))\n"
    shadowing = (
        "    return s\n\n\ndef encode_cyclic(s):\n    return s\n\n\n"
        "import random\nrandom.Random.randrange = lambda self, *args: 1\n"
    )
    assert not lone_sandbox.run(cyclic_job(shadowing)).passed
    verdict = lone_sandbox.run(cyclic_job(correct))
    assert verdict.passed, verdict.message


def test_prompt_helpers_leave_out_the_function_under_test():
    helpers = prompt_helpers("import math\nX = 2\n\ndef helper():\n    return 1\n\ndef f(x):\n    '''doc'''\n", "f")
    assert helpers == "import math\nX = 2\ndef helper():\n    return 1"
    assert prompt_helpers("def f(:\n", "f") == ""


def test_correct_programs_that_use_builtins_and_return_any_plain_data_pass(sandbox):
    program = dedent("""\
        import collections
        str_ = str
        def describe(x):
            return str(x) + repr(x)[:0]
        def shapes():
            return {(1, 2): {frozenset({1}), 3.5}, 'b': [None, b'x', 1j, float('inf')], 'c': collections.Counter('aab')}
    """)
    tests = (
        "assert describe(12) == '12'",
        "assert shapes() == {(1, 2): {frozenset({1}), 3.5}, 'b': [None, b'x', 1j, float('inf')],"
        " 'c': {'a': 2, 'b': 1}}",
    )
    verdict = sandbox.run(Job("python", program, test_cases=tests))
    assert verdict.passed, verdict.message


def test_values_that_are_not_plain_data_fail_with_their_type_named(sandbox):
    program = "class Point:\n    pass\n\ndef origin():\n    return Point()\n"
    verdict = sandbox.run(Job("python", program, test_cases=("assert origin() == 0",)))
    assert verdict.status is Status.FAILED
    assert "a value of type Point" in verdict.message


def test_objects_of_the_program_can_be_passed_back_to_it(sandbox):
    program = "class Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n\n"
    program += "def total(pairs):\n    return sum(p.a + p.b for p in pairs)\n"
    verdict = sandbox.run(Job("python", program, test_cases=("assert total([Pair(1, 2), Pair(3, 4)]) == 10",)))
    assert verdict.passed, verdict.message


def test_earlier_programs_cannot_be_read_from_memory(lone_sandbox):
    secret = "LEDEX_SECRET_" + "7" * 20
    assert lone_sandbox.run(
        Job("python", f"SECRET = {secret!r}\nresult = 1\n", test_cases=("assert result == 1",))
    ).passed
    looks = dedent("""\
        import gc, os, re
        marker = re.compile(rb'LEDEX_SECRET_7{20}')  # the pattern's text is not the secret
        seen = any(isinstance(o, str) and re.fullmatch('LEDEX_SECRET_7{20}', o) for o in gc.get_objects())
        readable = []
        for pid in ['self', '1', str(os.getppid())]:
            try:
                with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb', 0) as mem:
                    for line in maps:
                        start, end = (int(x, 16) for x in line.split()[0].split('-'))
                        if 'rw' in line.split()[1] and end - start < 1 << 26:
                            try:
                                mem.seek(start)
                                seen = seen or marker.search(mem.read(end - start)) is not None
                            except OSError:
                                pass
                readable.append(pid)
            except OSError:
                pass
        result = (seen, readable)
    """)
    verdict = lone_sandbox.run(Job("python", looks, test_cases=("assert result == (False, ['self'])",)))
    assert verdict.passed, verdict.message


def test_sysv_objects_and_sysctls_do_not_outlive_a_job(lone_sandbox):
    leave = dedent("""\
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        shm = libc.shmget(0x1ED, 4096, 0o1666)
        queue = libc.msgget(0x1EE, 0o1666)
        semaphores = libc.semget(0x1EF, 1, 0o1666)
        try:
            with open('/proc/sys/kernel/shmmax', 'w') as sysctl:
                sysctl.write('4096')
            wrote = True
        except OSError:
            wrote = False
        result = (shm >= 0, queue >= 0, semaphores >= 0, wrote)
    """)
    verdict = lone_sandbox.run(Job("python", leave, test_cases=("assert result == (True, True, True, False)",)))
    assert verdict.passed, verdict.message
    check = (
        "tables = [open(f'/proc/sysvipc/{kind}').read().splitlines()[1:] for kind in ('shm', 'msg', 'sem')]\n"
        "result = tables\n"
    )
    verdict = lone_sandbox.run(Job("python", check, test_cases=("assert result == [[], [], []]",)))
    assert verdict.passed, verdict.message


def test_directories_nested_too_deep_for_recursion_do_not_kill_the_worker(lone_sandbox, still_scores_right):
    nest = "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\nresult = 1\n"
    verdict = lone_sandbox.run(Job("python", nest, test_cases=("assert result == 1",), timeout_s=20))
    assert verdict.passed, verdict.message
    still_scores_right(lone_sandbox)


def test_a_stopped_or_killed_zygote_and_driver_do_not_fail_later_jobs(lone_sandbox, still_scores_right):
    for sig in ("SIGSTOP", "SIGKILL"):
        program = f"import os, signal\nos.kill(-1, signal.{sig})\nresult = 1\n"
        verdict = lone_sandbox.run(Job("python", program, test_cases=("assert result == 1",), timeout_s=2))
        assert not verdict.passed
        still_scores_right(lone_sandbox)


def test_a_function_under_test_named_like_a_builtin_needs_its_entry_point(sandbox):
    program = "def sum(a, b):\n    return a + b\n\n\ndef abs(x):\n    return 0\n"
    tests = ("assert sum(10, 15) == 25", "assert abs(-2) == 2")
    shadowing = sandbox.run(Job("python", program, test_cases=tests))
    assert [test.passed for test in shadowing.tests] == [False, True]  # the tests' own sum and abs
    named = sandbox.run(Job("python", program, test_cases=tests, entry_point="sum"))
    assert [test.passed for test in named.tests] == [True, True]  # only `sum` is the program's
