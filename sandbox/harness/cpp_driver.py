"""C++: the tests and the program compiled into two executables, run as two processes.

A test program is `[prefix] int main() { ... }`; the prefix (MultiPL-E's `}` closing the
function under test) goes to the program. Two translation units:
- `PROGRAM`'s (`server.cpp`): the call bridge (`cpp_calls.py`), then `program.cpp` (the
  program, the prefix and what follows the test's `main`; a `main` of the program's own is
  renamed), then a `main` that answers the driver's calls to the functions the tests name;
- `DRIVER`'s: the program's and the prefix's `#include <...>` lines, the bridge,
  declarations of the functions the tests call (copied from the program's definitions, if
  made only of type and name characters), each bound to a `Remote` of the same name, and
  the test's `main` renamed. It alone holds the nonce and the report channel, and writes
  the completion record after the tests returned.

What the program cannot reach:
- the driver's process and executable: no code of the program is compiled or linked into
  it (no `main`, `exit`, `__assert_fail`, `operator==`, macro or constructor of the
  program); its memory, descriptors and signals are out of the program's Landlock domain;
  its executable and source are removed before the program's process starts, so the tests'
  expected values are nowhere the program can read.
What the program does to its own unit (macros, a `main`, symbols the bridge uses) can only
break the answers to its own calls. Exiting, crashing or being killed during a call ends
the driver the same way, without a record.
"""

from __future__ import annotations

import re
import shlex

from .c_like_source import function_body, masked
from .cpp_calls import BRIDGE

PROGRAM, DRIVER = "program", "driver"  # the executables
PROGRAM_SOURCE, SERVER_SOURCE, DRIVER_SOURCE = "program.cpp", "server.cpp", "driver.cpp"
_MAIN = re.compile(r"^[ \t]*int\s+main\s*\(([^)]*)\)\s*\{", re.MULTILINE)
_SYSTEM_INCLUDE = re.compile(r"^[ \t]*#[ \t]*include[ \t]*<([\w./+-]+)>[ \t]*$", re.MULTILINE)
_USING_STD = re.compile(r"^[ \t]*using\s+namespace\s+std\s*;[ \t]*$", re.MULTILINE)
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*(?:\(|;)")
_DECLARATION_CHARS = re.compile(r"^[\w\s:<>,*&().]+$")  # types and names: no =, quotes, brackets, braces
_KEYWORDS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "main", "assert", "catch", "int", "auto"})
_SERVER = """\
{bridge}
#define main ledex_program_main
#include "{program}"
#undef main
static const ledex::Handler ledex_handlers[] = {{{handlers}nullptr}};
int main() {{ ledex::serve(ledex_handlers, {count}); }}
"""
_DRIVER = """\
#undef NDEBUG
#include <cassert>
#include <cstdio>
#include <unistd.h>
{includes}
{bridge}
{declarations}
{remotes}
static int ledex_tests({parameters}) {{
{body}
return 0;
}}
static int ledex_run_tests(int argc, char **argv) {{
    (void)argc, (void)argv;
    return ledex_tests({arguments});
}}
int main(int argc, char **argv) {{ ledex::run_tests(ledex_run_tests, argc, argv); }}
"""


def split(program: str, test_program: str) -> dict[str, str] | None:
    """The files of the two units (name -> source), or None when the test program has no
    `int main(...) {...}`."""
    span = function_body(masked(test_program), _MAIN)
    if span is None:
        return None
    main, body_start, end = span
    prefix, parameters = test_program[: main.start()], main.group(1).strip()
    body = test_program[body_start:end]
    includes = [*_SYSTEM_INCLUDE.findall(masked(program)), *_SYSTEM_INCLUDE.findall(masked(prefix))]
    lines = [f"#include <{name}>" for name in dict.fromkeys(includes)]
    if _USING_STD.search(masked(program)):
        lines.append("using namespace std;")
    declarations = _declarations(program, called_names(body))
    server = _SERVER.format(
        bridge=BRIDGE,
        program=PROGRAM_SOURCE,
        handlers="".join(f"&ledex::invoke<&{name}>, " for name in declarations),
        count=len(declarations),
    )
    remotes = [
        f"static const ledex::Remote<decltype({name})> ledex_remote_{name}{{{index}}};\n"
        f"#define {name} ledex_remote_{name}"
        for index, name in enumerate(declarations)
    ]
    driver = _DRIVER.format(
        includes="\n".join(lines),
        bridge=BRIDGE,
        declarations="\n".join(declarations.values()),
        remotes="\n".join(remotes),
        parameters=parameters if parameters not in ("", "void") else "",
        arguments="argc, argv" if parameters not in ("", "void") else "",
        body=body,
    )
    program_unit = f"{program}\n{prefix}\n{test_program[end + 1 :]}\n"
    return {PROGRAM_SOURCE: program_unit, SERVER_SOURCE: server, DRIVER_SOURCE: driver}


def called_names(body: str) -> list[str]:
    """Names the tests call or assign (`auto candidate = name;`), in order."""
    names = dict.fromkeys(match.group(1) for match in _CALLED.finditer(masked(body)))
    return [name for name in names if name not in _KEYWORDS]


def compile_command(gxx: str) -> list[str]:
    """Compile and link `PROGRAM` and `DRIVER`."""
    compile = f"{shlex.quote(gxx)} -std=c++17 -O1 -o"
    return ["/bin/sh", "-c", f"{compile} {PROGRAM} {SERVER_SOURCE} && {compile} {DRIVER} {DRIVER_SOURCE}"]


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
