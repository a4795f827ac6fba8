"""C++ tests call the program's functions in another process: values, exceptions and crashes cross."""

from __future__ import annotations

from textwrap import dedent

import pytest

from sandbox import Job, Status
from tests.sandbox.test_languages import language

pytestmark = pytest.mark.parametrize("name", [language("cpp")])

PROGRAM = dedent("""\
    #include <any>
    #include <map>
    #include <optional>
    #include <set>
    #include <stdexcept>
    #include <string>
    #include <tuple>
    #include <unistd.h>
    #include <vector>
    std::tuple<std::optional<long>, std::string> shapes(std::vector<std::vector<long>> grid, float scale, bool flag) {
        if (grid.empty()) return {std::nullopt, flag ? "yes" : "no"};
        return {grid[0][0] * (long)scale, std::string(grid.size(), 'x')};
    }
    std::map<std::string, std::set<long>> tally(std::vector<std::any> values) {
        std::map<std::string, std::set<long>> out;
        for (auto &value : values) {
            if (value.type() == typeid(int)) out["int"].insert(std::any_cast<int>(value));
            else if (value.type() == typeid(const char *)) out[std::any_cast<const char *>(value)].insert(0);
            else out["other"].insert(1);
        }
        return out;
    }
    long refuse(long n) { if (n < 0) throw std::invalid_argument("negative"); return n; }
    long crash(long n) { if (n) abort(); return 0; }
    long pid() { return getpid(); }
""")
TESTS = dedent("""\
    #include <cassert>
    #include <iostream>
    #include <unistd.h>
    int main() {
        std::cout << "the tests may print: the streams are set up in the driver's process" << std::endl;
        assert(shapes({}, 1.5f, true) == std::make_tuple(std::optional<long>(), std::string("yes")));
        assert(shapes({{4, 5}, {6}}, 2.0f, false) == std::make_tuple(std::optional<long>(8), std::string("xx")));
        std::map<std::string, std::set<long>> expected = {{"int", {1, 2}}, {"a", {0}}, {"other", {1}}};
        assert(tally({1, "a", 2, 2.5f}) == expected);
        bool raised = false;
        try { refuse(-1); } catch (const std::exception &error) { raised = true; }
        assert(raised && refuse(3) == 3);
        assert(pid() != getpid());
    }
""")


def test_values_cross_between_the_tests_and_the_program_s_process(sandbox, name):
    verdict = sandbox.run(Job(name, PROGRAM, test_program=TESTS))
    assert verdict.passed, verdict.message
    wrong = PROGRAM.replace("grid[0][0] * (long)scale", "grid[0][0]")
    assert sandbox.run(Job(name, wrong, test_program=TESTS)).status is Status.FAILED


def test_a_crash_in_the_program_s_process_ends_the_tests_without_a_pass(sandbox, name):
    verdict = sandbox.run(Job(name, PROGRAM, test_program="int main() {\n    crash(0);\n    crash(1);\n}\n"))
    assert verdict.status is Status.RUNTIME_ERROR and not verdict.passed
    assert "killed by signal 6 during a call" in verdict.message, verdict.message


def test_the_program_s_process_has_a_main_of_its_own_and_no_trace_of_the_tests(sandbox, name):
    program = dedent("""\
        #include <fstream>
        #include <iostream>
        #include <string>
        static long twice(long n) { return 2 * n; }
        bool readable(std::string path) { return std::ifstream(path).good(); }
        int main() { std::cout << twice(21) << std::endl; return 1; }
    """)
    tests = dedent("""\
        #include <cassert>
        int main() {
            assert(twice(21) == 42);
            assert(!readable("driver.cpp") && !readable("driver") && readable("program.cpp"));
        }
    """)
    verdict = sandbox.run(Job(name, program, test_program=tests))
    assert verdict.passed, verdict.message
