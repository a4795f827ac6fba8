"""C++: the test program compiled as a translation unit of its own, linked with the program.

A test program is `[prefix] int main() { ... }`; the prefix (MultiPL-E's `}` closing the
function under test) goes to the program. The driver unit holds: the program's and the
prefix's `#include <...>` lines, the call bridge (`cpp_calls.py`), declarations of the
functions the tests call (copied from the program's definitions, if made only of type and
name characters), each bound to a `Remote` of the same name, and the test's `main` renamed.
The process forks before any code of the program runs: the test's `main` runs in the
parent, which alone holds the nonce and the report channel and writes the completion
record after the tests returned; the program's functions run in the child and answer the
parent's calls with plain values.

What the program cannot reach:
- the driver's process: its memory (not dumpable, no ptrace), the nonce, the report channel,
  and the values the tests compare; code of the program never runs there;
- the driver's preprocessor: `#define assert`, `#undef assert`, `#define main`, NDEBUG stay
  in the program's unit;
- its symbols: after compiling, every global symbol of the program except the functions the
  tests call is made local (`objcopy --keep-global-symbol`), so the program cannot supply
  `main`, `exit`, `__assert_fail`, `memcmp`, `write`, an `operator==` or a template
  specialisation the driver would link to; indirect functions (whose resolvers would run
  before the fork) are refused.
Exiting, crashing or being killed during a call ends the driver the same way, without a record.
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath

from .c_like_source import function_body, masked
from .cpp_calls import BRIDGE

_MAIN = re.compile(r"^[ \t]*int\s+main\s*\(([^)]*)\)\s*\{", re.MULTILINE)
_SYSTEM_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<([\w./+-]+)>[ \t]*$", re.MULTILINE)
_USING_STD = re.compile(r"^[ \t]*using\s+namespace\s+std\s*;[ \t]*$", re.MULTILINE)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*(?:\(|;)")
_DECLARATION_CHARS = re.compile(r"^[\w\s:<>,*&().]+$")  # types and names: no =, quotes, brackets, braces
_IFUNC_ERROR = "error: the program defines an indirect function (ifunc), whose resolver would run before the tests"
_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "main", "assert", "catch", "int", "auto"})
_DRIVER = """\
#undef NDEBUG
#include <cassert>
#include <cstdio>
#include <unistd.h>
{includes}
{bridge}
{declarations}
static const ledex::Handler ledex_handlers[] = {{{handlers}nullptr}};
{remotes}
static int ledex_tests({parameters}) {{
{body}
return 0;
}}
static int ledex_run_tests(int argc, char **argv) {{
    (void)argc, (void)argv;
    return ledex_tests({arguments});
}}
static void ledex_start(int argc, char **argv, char **) {{ ledex::split(ledex_run_tests, argc, argv); }}
__attribute__((section(".preinit_array"), used)) static void (*ledex_preinit)(int, char **, char **) = ledex_start;
int main() {{ ledex::serve(ledex_handlers, {count}); }}
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
    remotes = [
        f"static const ledex::Remote<decltype({name})> ledex_remote_{name}{{{index}}};\n"
        f"#define {name} ledex_remote_{name}"
        for index, name in enumerate(declarations)
    ]
    driver = _DRIVER.format(
        includes="\n".join(lines),
        bridge=BRIDGE,
        declarations="\n".join(declarations.values()),
        handlers="".join(f"&ledex::invoke<&{name}>, " for name in declarations),
        remotes="\n".join(remotes),
        count=len(declarations),
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
    """Compile both units, refuse a program with an indirect function (its resolver would run
    before the fork), keep only the `called` functions (C++ linkage, global namespace) of the
    program global, and link. The program's COMDAT groups are dissolved, so the linker never
    drops the program's own (now local) copy of a template instantiation for the driver's."""
    flags = "-std=c++17 -O1"
    symbols = ["ledex_keep_none", *(f"_Z{len(name)}{name}*" for name in called)]
    keep = " ".join(f"-G {shlex.quote(symbol)}" for symbol in symbols)
    nm = shlex.quote(nm_beside(objcopy))
    script = (
        f"{shlex.quote(gxx)} {flags} -c program.cpp -o program.o"
        f" && {nm} program.o > program.symbols"
        f" && {{ ! grep -q ' [iI] ' program.symbols || {{ echo {shlex.quote(_IFUNC_ERROR)} >&2; exit 1; }}; }}"
        f" && {shlex.quote(objcopy)} --remove-section=.group --wildcard {keep} program.o"
        f" && {shlex.quote(gxx)} {flags} -o main driver.cpp program.o"
    )
    return ["/bin/sh", "-c", script]


def nm_beside(objcopy: str) -> str:
    """binutils' `nm`, from the directory of its `objcopy`."""
    return str(PurePosixPath(objcopy).with_name("nm"))


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
