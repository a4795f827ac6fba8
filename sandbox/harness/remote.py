"""The driver's side of a Python program process: start it, load the program, call into it.

Everything the driver gets back is decoded plain data, a `Handle`, or an exception of the
driver's own classes, so no object of the program ever runs code in the driver.
"""

from __future__ import annotations

import builtins
import importlib
import os
import sys
from collections.abc import Sequence

from . import plain_data, protocol, zygote


class ProgramEnded(RuntimeError):
    """The program's process ended, or stopped answering sensibly, during a call."""


class ProgramProcess:
    """An untrusted program process started from the zygote, with a call channel to it."""

    def __init__(self, zygote_fd: int, stdio: Sequence[int]) -> None:
        self.peak_kb = 0  # the largest resident size the program's process reported
        calls_read, self._calls = os.pipe()
        self._replies, replies_write = os.pipe()
        try:
            zygote.spawn(zygote_fd, [*stdio, calls_read, replies_write])
        finally:
            os.close(calls_read)
            os.close(replies_write)

    def close(self) -> None:
        """End the call channel; the program's process then exits."""
        os.close(self._calls)
        os.close(self._replies)

    def start(self, job: dict) -> dict:
        """Send the job (see `program_process.serve`); the program's first answer."""
        protocol.write_message(self._calls, job)
        return self.receive()

    def receive(self) -> dict:
        try:
            reply = protocol.read_message(self._replies)
        except (ValueError, RecursionError) as error:
            raise ProgramEnded(f"the program's process sent a malformed reply ({type(error).__name__})") from None
        if type(reply) is not dict:
            raise ProgramEnded("the program's process ended during the call")
        if type(reply.get("peak_kb")) is int:
            self.peak_kb = max(self.peak_kb, reply["peak_kb"])
        return reply

    def call(self, target: dict, args: tuple, kwargs: dict) -> object:
        try:
            arguments = plain_data.encode((list(args), kwargs))
        except plain_data.NotPlainData as error:
            raise TypeError(f"a test passed an argument the program's process cannot receive: {error}") from None
        try:
            protocol.write_message(self._calls, {**target, "arguments": arguments})
        except OSError:
            raise ProgramEnded("the program's process ended before the call") from None
        reply = self.receive()
        if "value" in reply:
            try:
                return plain_data.decode(reply["value"])
            except (ValueError, RecursionError, MemoryError):
                raise ProgramEnded("the program's process returned malformed data") from None
        raise _rebuilt_exception(reply)


class RemoteFunction:
    """What tests call in place of a function the program defines."""

    __slots__ = ("__name__", "_process", "_target")

    def __init__(self, process: ProgramProcess, target: dict, name: str) -> None:
        self._process = process
        self._target = target
        self.__name__ = name

    def __call__(self, *args, **kwargs) -> object:
        return self._process.call(self._target, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} of the program>"


def exported_names(process: ProgramProcess, exports: object, entry_point: str) -> dict:
    """The driver's bindings for the names the program defined: functions and handles as
    proxies, plain data as copies, standard-library modules it imported as the driver's own
    import of them. Names of builtins (but `entry_point`, the function under test) and dunder
    names are left out, so a program cannot shadow what the tests use."""
    if type(exports) is not dict:
        raise ProgramEnded("the program's process sent malformed names")
    bound = {}
    for name, export in exports.items():
        if type(name) is not str or name.startswith("__") or (hasattr(builtins, name) and name != entry_point):
            continue
        if type(export) is list and len(export) == 2 and export[0] == "module":
            module = _standard_module(export[1])
            if module is not None:
                bound[name] = module
            continue
        if type(export) is not list or len(export) != 2 or type(export[0]) is not bool:
            raise ProgramEnded("the program's process sent malformed names")
        try:
            value = plain_data.decode(export[1])
        except (ValueError, RecursionError):
            raise ProgramEnded("the program's process sent malformed names") from None
        if export[0] and type(value) is plain_data.Handle:
            bound[name] = RemoteFunction(process, {"name": name}, name)
        else:
            bound[name] = value
    return bound


def _standard_module(name: object) -> object:
    """The driver's own import of standard-library module `name`, or None."""
    if type(name) is not str or name.partition(".")[0] not in sys.stdlib_module_names:
        return None
    try:
        return importlib.import_module(name)
    except Exception:
        return None


def _rebuilt_exception(reply: dict) -> BaseException:
    """The driver's own exception for one the program raised: the builtin class of the same
    name if the program raised a builtin one, else ProgramEnded's base, RuntimeError."""
    name, message = str(reply.get("raised", "Exception")), str(reply.get("message", ""))
    kind = getattr(builtins, name, None) if reply.get("builtin") is True else None
    if not (isinstance(kind, type) and issubclass(kind, BaseException)) or kind in (SystemExit, KeyboardInterrupt):
        kind = RuntimeError
        message = f"{name}: {message}"
    try:
        error = kind(message)
    except Exception:
        error = RuntimeError(f"{name}: {message}")
    error.add_note(str(reply.get("traceback", "")).rstrip())
    error.raised_by_program = True
    return error
