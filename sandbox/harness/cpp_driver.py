"""C++: the test program compiled as a translation unit of its own, linked with the program.

A test program is `[prefix] int main() { ... }`; the prefix (MultiPL-E's `}` closing the
function under test) goes to the program. The driver unit holds: the program's and the
prefix's `#include <...>` lines, declarations of the functions the tests call (copied from
the program's definitions, if made only of type and name characters), the test's `main`
renamed, and the real `main`, which writes the completion record after the tests returned.

What the program cannot reach:
- the driver's preprocessor: `#define assert`, `#undef assert`, `#define main`, NDEBUG stay
  in the program's unit;
- its symbols: after compiling, every global symbol of the program except the functions the
  tests call is made local (`objcopy --keep-global-symbol`), so the program cannot supply
  `main`, `exit`, `__assert_fail`, `memcmp`, `write`, an `operator==` or a template
  specialisation the driver would link to;
- the nonce: not in any file; a `.preinit_array` function of the driver reads it from a
  pipe before any constructor of the program runs. Exiting early by any path (`exit`,
  `_exit`, `errx`, `quick_exit`, `pthread_exit`, a signal) skips the record.
Still possible: code of the program (a constructor, or the function under test) can read
and write the whole process's memory, so it could find the nonce there (see the package's
threat model).
"""

from __future__ import annotations

import re
import shlex

from .c_like_source import function_body, masked

_MAIN = re.compile(r"^[ \t]*int\s+main\s*\(([^)]*)\)\s*\{", re.MULTILINE)
_SYSTEM_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<([\w./+-]+)>[ \t]*$", re.MULTILINE)
_USING_STD = re.compile(r"^[ \t]*using\s+namespace\s+std\s*;[ \t]*$", re.MULTILINE)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*(?:\(|;)")
_DECLARATION_CHARS = re.compile(r"^[\w\s:<>,*&().]+$")  # types and names: no =, quotes, brackets, braces
_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "main", "assert", "catch", "int", "auto"})
_DRIVER = """\
#undef NDEBUG
#include <cassert>
#include <cstdio>
#include <unistd.h>
{includes}
{declarations}
static char ledex_nonce[64];
static void ledex_read_nonce(int, char **, char **) {{
    ssize_t size = read(4, ledex_nonce, sizeof ledex_nonce - 1);
    ledex_nonce[size > 0 ? size : 0] = 0;
    close(4);
}}
__attribute__((section(".preinit_array"), used)) static void (*ledex_preinit)(int, char **, char **) = ledex_read_nonce;
static int ledex_tests({parameters}) {{
{body}
return 0;
}}
int main({parameters}) {{
    int status = ledex_tests({arguments});
    char line[128];
    int size = snprintf(line, sizeof line, "%s complete 0 - -\\n", ledex_nonce);
    if (status == 0 && ledex_nonce[0] && write(3, line, size) != size) {{
        return 1;
    }}
    return status;
}}
"""


def split(program: str, test_program: str) -> tuple[str, str, list[str]] | None:
    """(program unit, driver unit, functions of the program the driver calls), or None when the
    test program has no `int main(...) {...}`."""
    span = function_body(masked(test_program), _MAIN)
    if span is None:
        return None
    main, body_start, end = span
    prefix, parameters = test_program[: main.start()], main.group(1).strip()
    body = test_program[body_start:end]
    program_unit = f"{program}\n{prefix}\n{test_program[end + 1 :]}\n"
    includes = [*_SYSTEM_INCLUDE.findall(masked(program)), *_SYSTEM_INCLUDE.findall(masked(prefix))]
    lines = [f"#include <{name}>" for name in dict.fromkeys(includes)]
    if _USING_STD.search(masked(program)):
        lines.append("using namespace std;")
    declarations = _declarations(program, called_names(body))
    driver = _DRIVER.format(
        includes="\n".join(lines),
        declarations="\n".join(declarations.values()),
        parameters=parameters if parameters not in ("", "void") else "",
        arguments="argc, argv" if parameters not in ("", "void") else "",
        body=body,
    )
    return program_unit, driver, list(declarations)


def called_names(body: str) -> list[str]:
    """Names the tests call or assign (`auto candidate = name;`), in order."""
    names = dict.fromkeys(match.group(1) for match in _CALLED.finditer(masked(body)))
    return [name for name in names if name not in _KEYWORDS]


def compile_command(gxx: str, objcopy: str, called: list[str]) -> list[str]:
    """Compile both units, keep only the `called` functions (C++ linkage, global namespace) of
    the program global, and link."""
    flags = "-std=c++17 -O1"
    symbols = ["ledex_keep_none", *(f"_Z{len(name)}{name}*" for name in called)]
    keep = " ".join(f"-G {shlex.quote(symbol)}" for symbol in symbols)
    script = (
        f"{shlex.quote(gxx)} {flags} -c program.cpp -o program.o"
        f" && {shlex.quote(objcopy)} --wildcard {keep} program.o"
        f" && {shlex.quote(gxx)} {flags} -o main driver.cpp program.o"
    )
    return ["/bin/sh", "-c", script]


def _declarations(program: str, names: list[str]) -> dict[str, str]:
    """Name -> declaration, for the `names` the program defines at the start of a line."""
    code, found = masked(program), {}
    for name in names:
        definition = re.compile(rf"^[ \t]*([^\n;{{}}#]*?\b{re.escape(name)}\s*\([^;{{}}]*\))\s*(?:const\s*)?\{{", re.M)
        match = definition.search(code)
        declaration = program[match.start(1) : match.end(1)] if match else ""
        if declaration and _DECLARATION_CHARS.match(declaration):
            found[name] = f"{declaration};"
    return found
