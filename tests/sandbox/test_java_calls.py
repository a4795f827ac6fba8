"""Java: the tests run in a JVM of their own and call the program's JVM; values cross as data."""

from __future__ import annotations

from textwrap import dedent

import pytest

from sandbox import Job, Status
from sandbox.harness import java_calls, landlock
from tests.sandbox import multipl_e
from tests.sandbox.test_languages import language

JAVA = [language("java")]
HEADER = "import java.util.*;\nimport org.javatuples.*;\nclass Problem {\n"
# Correct completions of real MultiPL-E problems, one per kind of value that crosses (the
# test program closes the method).
COMPLETIONS = {
    "HumanEval_12_longest": """\
        Optional<String> best = Optional.empty();
        for (String s : strings) if (best.isEmpty() || s.length() > best.get().length()) best = Optional.of(s);
        return best;
""",
    "HumanEval_111_histogram": """\
        HashMap<String, Long> counts = new HashMap<>();
        for (String word : test.split(" ")) if (!word.isEmpty()) counts.merge(word, 1l, Long::sum);
        long most = counts.values().stream().mapToLong(Long::longValue).max().orElse(0);
        counts.values().removeIf(count -> count != most);
        return counts;
""",
    "HumanEval_8_sum_product": """\
        long sum = 0, product = 1;
        for (long number : numbers) { sum += number; product *= number; }
        return Pair.with(sum, product);
""",
    "HumanEval_20_find_closest_elements": """\
        ArrayList<Float> sorted = new ArrayList<>(numbers);
        Collections.sort(sorted);
        Pair<Float, Float> best = null;
        for (int i = 1; i < sorted.size(); i++)
            if (best == null || sorted.get(i) - sorted.get(i - 1) < best.getValue1() - best.getValue0())
                best = Pair.with(sorted.get(i - 1), sorted.get(i));
        return best;
""",
    "HumanEval_2_truncate_number": """\
        return number % 1.0f;
""",
}


@pytest.mark.parametrize("name", JAVA)
@pytest.mark.skipif(not multipl_e.path("java").exists(), reason="the MultiPL-E data is not beside the repository")
def test_correct_solutions_of_real_problems_pass_and_raising_ones_fail(sandbox, name):
    raising = '        if (System.nanoTime() != 0) throw new IllegalStateException("broken");\n'
    raised = "java.lang.IllegalStateException: broken"
    multipl_e.assert_correct_pass_and_raising_fail(sandbox, "java", COMPLETIONS, raising, raised)


@pytest.mark.parametrize("name", JAVA)
def test_every_kind_of_value_crosses_both_ways(sandbox, name):
    program = HEADER + dedent("""\
        static Object echo(Object value) { return value; }
        static long[] squares(long... values) {
            long[] out = values.clone();
            for (int i = 0; i < out.length; i++) out[i] *= out[i];
            return out;
        }
        static String twice(String text) { return text + text; }
        static String twice(long number) { return String.valueOf(2 * number); }
        private static char first(String text) { return text.charAt(0); }
        static <T> T same(T value) { return value; }
        static TreeMap<String, ArrayList<Long>> index(HashMap<String, Long> counts) {
            TreeMap<String, ArrayList<Long>> out = new TreeMap<>();
            counts.forEach((key, count) -> out.put(key, new ArrayList<>(List.of(count, -count))));
            return out;
        }
    """)
    tests = dedent("""\
        public static void main(String[] args) {
            Object[] values = {null, 1l, 2, (short) 3, (byte) 4, 'c', true, 1.5, 2.5f, "snow \u2603",
                new java.math.BigInteger("123456789012345678901234567890"), new java.math.BigDecimal("1.25"),
                new ArrayList<Long>(List.of(1l, 2l)), new LinkedList<String>(List.of("a")),
                new HashSet<Long>(Set.of(3l)), new TreeSet<String>(Set.of("b", "a")),
                new LinkedHashSet<Long>(List.of(2l, 1l)),
                new HashMap<String, Long>(Map.of("k", 1l)), new LinkedHashMap<Long, String>(Map.of(1l, "v")),
                Optional.of(Pair.with(1l, "x")), Optional.empty(), Triplet.with(1l, 2l, 3l), KeyValue.with("k", 2l),
                new ArrayList<Object>(Arrays.asList(null, List.of(Map.of("deep", Optional.of(1.0)))))};
            for (Object value : values) assert(Objects.equals(echo(value), value));
            assert(echo(new HashMap<String, Long>()) instanceof HashMap);
            assert(echo(new LinkedList<Long>()) instanceof LinkedList);
            assert(Arrays.equals(squares(1l, 2l, 3l), new long[] {1l, 4l, 9l}));
            assert(Arrays.equals((String[]) echo(new String[] {"a", null}), new String[] {"a", null}));
            assert(twice("ab").equals("abab") && twice(21l).equals("42"));
            assert(first("xyz") == 'x');
            assert(same(Pair.with(1l, 2l)).getValue1() == 2l);
            var indexed = new TreeMap<String, ArrayList<Long>>(Map.of("a", new ArrayList<Long>(List.of(1l, -1l))));
            assert(index(new HashMap<String, Long>(Map.of("a", 1l))).equals(indexed));
        }
    }
    """)
    verdict = sandbox.run(Job("java", program, test_program=tests))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JAVA)
def test_exceptions_and_values_of_the_programs_own_classes_fail_with_their_names(sandbox, name):
    program = HEADER + dedent("""\
        static class Box { }
        static long divide(long a, long b) { return a / b; }
        static Object box() { return new Box(); }
    """)
    main = "public static void main(String[] args) {{\nassert({});\n}}\n}}\n"
    raising = sandbox.run(Job("java", program, test_program=main.format("divide(1l, 0l) == 0l")))
    boxing = sandbox.run(Job("java", program, test_program=main.format("box() != null")))
    assert raising.status is Status.RUNTIME_ERROR and "java.lang.ArithmeticException: / by zero" in raising.message
    assert boxing.status is Status.RUNTIME_ERROR and "Problem$Box cannot cross" in boxing.message


@pytest.mark.parametrize("name", JAVA)
@pytest.mark.skipif(landlock.abi_version() == 0, reason="this kernel has no Landlock")
def test_the_program_cannot_reach_the_tests_jvm(sandbox, name):
    """The tests' JVM is dumpable and runs as the same user, but the program's JVM is in a
    Landlock domain: its memory, descriptors and signals are out of reach."""
    program = HEADER + dedent("""\
        static boolean opens(String path, boolean write) {
            try (java.io.Closeable file = write ? new java.io.FileOutputStream(path)
                                                : new java.io.FileInputStream(path)) {
                return true;
            } catch (Exception denied) {
                return false;
            }
        }
        static long add(long a, long b) throws Exception {
            long found = 0;
            for (java.io.File process : new java.io.File("/proc").listFiles()) {
                String pid = process.getName();
                if (!pid.chars().allMatch(Character::isDigit)) continue;
                java.nio.file.Path commandLine = java.nio.file.Path.of("/proc/" + pid + "/cmdline");
                String command = new String(java.nio.file.Files.readAllBytes(commandLine));
                if (!command.contains("LedexLauncher")) continue;
                found++;
                if (opens("/proc/" + pid + "/mem", false) || opens("/proc/" + pid + "/fd/3", true)) return -1;
                SIGNAL_CHECK
            }
            return found == 1 ? a + b : -2;
        }
    """)
    signal_check = "if (ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::destroy).orElse(true)) return -3;"
    program = program.replace("SIGNAL_CHECK", signal_check if landlock.abi_version() >= 6 else "")  # scoped from ABI 6
    tests = "public static void main(String[] args) {\nassert(add(1l, 2l) == 3l);\n}\n}\n"
    verdict = sandbox.run(Job("java", program, test_program=tests))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JAVA)
def test_the_tests_files_are_gone_before_the_program_starts(sandbox, name):
    """Nothing of the tests is left on disk for the program to read or rewrite."""
    program = HEADER + dedent("""\
        static ArrayList<String> files() throws Exception {
            try (var paths = java.nio.file.Files.walk(java.nio.file.Path.of("."))) {
                return new ArrayList<>(paths.map(path -> path.getFileName().toString()).sorted().toList());
            }
        }
    """)
    tests = dedent("""\
        public static void main(String[] args) {
            ArrayList<String> files = files();
            assert(files.contains("Problem.class") && files.contains("LedexServe.class"));
            assert(files.stream().noneMatch(file -> file.contains("Tests") || file.endsWith(".java")));
            assert(!files.contains("LedexCheck.class") && !files.contains("LedexLauncher.class"));
        }
    }
    """)
    verdict = sandbox.run(Job("java", program, test_program=tests))
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("name", JAVA)
def test_classes_the_program_writes_where_the_tests_were_are_never_loaded(sandbox, name):
    """The tests' JVM looks classes up in its directory, open by descriptor: the program can
    recreate `tests/` and put a class there, but not in the directory the tests' JVM reads."""
    program = HEADER.replace("class Problem", "class Planted {}\nclass Problem") + dedent("""\
        static long add(long a, long b) throws Exception {
            java.nio.file.Files.createDirectories(java.nio.file.Path.of("tests"));
            var planted = java.nio.file.Path.of("program/Planted.class");
            java.nio.file.Files.copy(planted, java.nio.file.Path.of("tests/Planted.class"));
            return a + b;
        }
    """)
    tests = dedent("""\
        public static void main(String[] args) throws Exception {
            assert(add(1l, 2l) == 3l);
            try {
                Class.forName("Planted");
                assert(false);
            } catch (ClassNotFoundException expected) {
            }
        }
    }
    """)
    verdict = sandbox.run(Job("java", program, test_program=tests))
    assert verdict.passed, verdict.message


def test_the_proxy_declares_each_method_and_constructor_of_each_class_with_its_signature():
    source = HEADER + dedent("""\
        @Deprecated
        public static <T extends Comparable<T>> ArrayList<T> sorted(final HashMap<String, List<T>> groups,
                                                                    long... extra) throws Exception {
            return null;
        }
        private static void log(String text) { System.out.println("static void fake(int x) {"); }
        long instance(long a) { return a; }
        Problem(int seed) { }
        static class Inner { static long hidden(long a) { return a; } }
        static { }
        static int[] counts(int[] values, String[][] table) { return values; }
    }
    interface Helper { static String name() { return "x"; } }
    """)
    proxy = java_calls.proxy(source, "import java.util.*;")
    assert "static class Problem {" in proxy and "static class Helper {" in proxy
    assert "static <T extends Comparable<T>> ArrayList<T> sorted(HashMap<String, List<T>> a0, long... a1)" in proxy
    assert 'LedexRemote.call("Problem", LedexRemote.STATIC, "sorted", new String[] {"HashMap", "long[]"}' in proxy
    assert "static  void log(String a0) {\n            LedexRemote.call(" in proxy
    assert "static  int[] counts(int[] a0, String[][] a1)" in proxy
    assert ' long instance(long a0) {\n            return (long) LedexRemote.call("Problem", ledexHandle,' in proxy
    assert 'Problem(int a0) {\n            ledexHandle = LedexRemote.construct("Problem", new String[] {"int"}' in proxy
    assert "Problem() {" in proxy  # for LedexTests, which extends it
    assert 'LedexRemote.call("Helper", LedexRemote.STATIC, "name"' in proxy
    assert "hidden" not in proxy and "fake" not in proxy


@pytest.mark.parametrize("name", JAVA)
def test_objects_of_the_program_live_in_its_jvm_and_are_called_through_handles(sandbox, name):
    """HumanEval-X's shape: the tests make an object of the program's class and call its methods."""
    program = dedent("""\
        import java.util.*;
        class Solution {
            private long calls;
            public Solution() { }
            public Solution(long start) { calls = start; }
            public boolean hasCloseElements(List<Double> numbers, double threshold) {
                calls++;
                for (int i = 0; i < numbers.size(); i++)
                    for (int j = i + 1; j < numbers.size(); j++)
                        if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;
                return false;
            }
            public long calls() { return calls; }
        }
    """)
    tests = dedent("""\
        public class Main {
            public static void main(String[] args) {
                Solution s = new Solution();
                List<Boolean> correct = Arrays.asList(
                    s.hasCloseElements(new ArrayList<>(Arrays.asList(1.0, 2.0, 3.9, 4.0, 5.0, 2.2)), 0.3),
                    !s.hasCloseElements(new ArrayList<>(Arrays.asList(1.0, 2.0, 3.9, 4.0, 5.0, 2.2)), 0.05),
                    s.calls() == 2, new Solution(40).calls() == 40, s.calls() == 2
                );
                if (correct.contains(false)) {
                    throw new AssertionError();
                }
            }
        }
    """)
    verdict = sandbox.run(Job("java", program, test_program=tests))
    wrong = sandbox.run(Job("java", program.replace("calls++;", "calls += 2;"), test_program=tests))
    assert verdict.passed, verdict.message
    assert wrong.status is Status.FAILED and "AssertionError" in wrong.message


def test_references_to_the_programs_classes_go_to_their_proxies():
    tests = 'assert GCD.gcd(4, 6) == 2; // GCD.gcd\nString s = "GCD."; x.GCD.y(); GCDs.z(); class T extends GCD {}'
    assert java_calls.to_proxies(tests, ["GCD"]) == (
        'assert LedexProgram.GCD.gcd(4, 6) == 2; // GCD.gcd\nString s = "GCD."; x.GCD.y(); GCDs.z(); '
        "class T extends LedexProgram.GCD {}"
    )


@pytest.mark.parametrize("name", JAVA)
def test_a_test_class_of_its_own_runs_whole_on_the_tests_side(sandbox, name):
    program = "public class GCD { public static int gcd(int a, int b) { return b == 0 ? a : gcd(b, a % b); } }\n"
    tests = dedent("""\
        public class Tests {
            static int expected(int a, int b) { return b == 0 ? a : expected(b, a % b); }
            public static void main(String[] args) {
                for (int a = 1; a < 20; a++) assert GCD.gcd(a, 12) == expected(a, 12) : "gcd(" + a + ", 12)";
            }
        }
    """)
    good = sandbox.run(Job("java", program, test_program=tests))
    wrong = sandbox.run(Job("java", program.replace("return b == 0 ? a", "return b == 0 ? 1"), test_program=tests))
    assert good.passed, good.message
    assert wrong.status is Status.FAILED and "GCD.gcd(a, 12) == expected(a, 12): gcd(2, 12)" in wrong.message
