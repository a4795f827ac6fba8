# Looks for the harness's reporter, nonce and results in frames, closures and gc; traces frames to flip results.
# ruff: noqa (deliberately hostile code)
import gc
import sys

found = []
for obj in gc.get_objects():
    if isinstance(obj, dict) and ("nonce" in obj or "report" in obj):
        found.append(obj)
frame = sys._getframe()
while frame is not None:
    for name in ("result", "passed", "status"):
        if name in frame.f_locals:
            frame.f_locals[name] = "passed"
    frame = frame.f_back


def tracer(frame, event, arg):
    if event == "return" and arg in ("failed", "error"):
        frame.f_locals["result"] = "passed"
    return tracer


sys.settrace(tracer)


def add(a, b):
    for cell_owner in gc.get_objects():
        if callable(cell_owner) and getattr(cell_owner, "__closure__", None):
            for cell in cell_owner.__closure__:
                try:
                    if cell.cell_contents in ("failed", "error"):
                        cell.cell_contents = "passed"
                except ValueError:
                    pass
    return 0


def twice(values):
    return values
