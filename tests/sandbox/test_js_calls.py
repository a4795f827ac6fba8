"""JavaScript: the tests run in a node process of their own and call the program's; values cross as data."""

from __future__ import annotations

from textwrap import dedent

import pytest

from sandbox import Job, Status
from sandbox.harness import landlock
from tests.sandbox import multipl_e
from tests.sandbox.test_languages import language

JS = [language("js")]
# Correct completions of real MultiPL-E problems, one per kind of value that crosses.
COMPLETIONS = {
    "HumanEval_12_longest": "  return strings.reduce((a, s) => (s.length > (a ?? '').length ? s : a), undefined);}",
    "HumanEval_111_histogram": dedent("""\
          const counts = {};
          for (const word of test.split(' ').filter(Boolean)) counts[word] = (counts[word] || 0) + 1;
          const most = Math.max(0, ...Object.values(counts));
          return Object.fromEntries(Object.entries(counts).filter(([, count]) => count === most));
        }
    """),
    "HumanEval_8_sum_product": "  return [numbers.reduce((a, b) => a + b, 0), numbers.reduce((a, b) => a * b, 1)];}\n",
}
TEST = "const assert = require('node:assert');\nassert.deepEqual(add(1, 2), 3);\n"


@pytest.mark.parametrize("name", JS)
@pytest.mark.skipif(not multipl_e.path("js").exists(), reason="the MultiPL-E data is not beside the repository")
def test_correct_solutions_of_real_problems_pass_and_raising_ones_fail(sandbox, name):
    raising = "  if (Date.now() > 0) throw new RangeError('broken');\n"
    raised = "the program raised RangeError: broken"
    multipl_e.assert_correct_pass_and_raising_fail(sandbox, "js", COMPLETIONS, raising, raised)


@pytest.mark.parametrize("name", JS)
def test_the_program_can_require_and_keep_state_between_calls(sandbox, name):
    program = dedent("""\
        const path = require('path');
        let calls = 0;
        function add(a, b) {
          calls += 1;
          return path.basename('/x/' + (a + b)) === String(a + b) ? a + b + calls - 1 : -1;
        }
    """)
    tests = TEST + "assert.deepEqual(add(2, 2), 5);\nassert.deepEqual(add(-1, 1), 2);\n"
    verdict = sandbox.run(Job("js", program, test_program=tests))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JS)
@pytest.mark.skipif(landlock.abi_version() == 0, reason="this kernel has no Landlock")
def test_the_program_cannot_reach_the_tests_process(sandbox, name):
    """The driver is dumpable and runs as the same user, but the program's process is in a
    Landlock domain: its memory, descriptors and signals are out of reach."""
    program = dedent("""\
        const fs = require('fs');
        function opens(path, flags) {
          try { fs.closeSync(fs.openSync(path, flags)); return true; } catch { return false; }
        }
        function add(a, b) {
          const drivers = fs.readdirSync('/proc').filter((pid) => /^[0-9]+$/.test(pid)).filter((pid) => {
            try {
              return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('driver.js');
            } catch {
              return false;
            }
          });
          for (const pid of drivers) {
            if (opens(`/proc/${pid}/mem`, 'r') || opens(`/proc/${pid}/fd/3`, 'w')) return -1;
            SIGNAL_CHECK
          }
          return drivers.length === 1 ? a + b : -2;
        }
    """)
    signal_check = "try { process.kill(Number(pid), 0); return -3; } catch {}"
    program = program.replace("SIGNAL_CHECK", signal_check if landlock.abi_version() >= 6 else "")  # scoped from ABI 6
    verdict = sandbox.run(Job("js", program, test_program=TEST))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JS)
def test_the_tests_files_are_gone_before_the_program_starts(sandbox, name):
    program = dedent("""\
        const files = require('fs').readdirSync('.').sort();
        function add(a, b) {
          const clean = files.includes('program.js') && !files.includes('tests.js') && !files.includes('driver.js');
          return clean ? a + b : -1;
        }
    """)
    verdict = sandbox.run(Job("js", program, test_program=TEST))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JS)
def test_the_tests_load_node_modules_only_never_a_file_the_program_wrote(sandbox, name):
    program = "require('fs').writeFileSync('evil.js', 'module.exports = 1;');\nfunction add(a, b) { return a + b; }\n"
    tests = TEST + "assert.throws(() => require('./evil'), /only node's own modules/);\nrequire('node:util');\n"
    verdict = sandbox.run(Job("js", program, test_program=tests))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JS)
def test_humaneval_x_programs_and_console_assert_checks(sandbox, name):
    """HumanEval-X's shape: an arrow function in a const, tests that use console.assert."""
    program = dedent("""\
        const hasCloseElements = (numbers, threshold) =>
          numbers.some((a, i) => numbers.some((b, j) => i !== j && Math.abs(a - b) < threshold));
    """)
    tests = dedent("""\
        const testHasCloseElements = () => {
          console.assert(hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.3) === true)
          console.assert(hasCloseElements([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05) === false)
        }
        testHasCloseElements()
    """)
    good = sandbox.run(Job("js", program, test_program=tests))
    wrong = sandbox.run(Job("js", program.replace("< threshold", "<= 0"), test_program=tests))
    assert good.passed, good.message
    assert wrong.status is Status.FAILED and "console.assert failed" in wrong.message
