"""Entry point of a worker, run as `python3 -I -c <this source>` inside the sandbox.

Reads the harness package's source from stdin (a 4-byte big-endian length, then a JSON object
mapping module names to source; the same framing as `protocol.py`, which cannot be imported
yet), imports the package from memory, and starts the fork server.
"""

import json
import os
import sys
from importlib.machinery import ModuleSpec


def _read_exactly(fd: int, size: int) -> bytes:
    chunks = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            raise SystemExit("harness bundle truncated")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _BundleImporter:
    """A meta path finder and loader for modules given as source (importlib.abc is not
    imported: every module loaded here makes each job's fork slower)."""

    def __init__(self, sources: dict[str, str]) -> None:
        self._sources = sources

    def find_spec(self, name, path=None, target=None):
        if name not in self._sources:
            return None
        return ModuleSpec(name, self, is_package="." not in name)

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        filename = f"<harness>/{module.__name__}.py"
        exec(compile(self._sources[module.__name__], filename, "exec", dont_inherit=True), module.__dict__)


_size = int.from_bytes(_read_exactly(0, 4), "big")
sys.meta_path.insert(0, _BundleImporter(json.loads(_read_exactly(0, _size))))

from harness.fork_server import serve  # noqa: E402

serve()
