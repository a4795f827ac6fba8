# Replaces the report descriptor with a pipe of its own, and a stdout whose flush reports.
# ruff: noqa (deliberately hostile code)
import os
import sys

read, write = os.pipe()
os.dup2(write, 3)


class Reporting:
    def write(self, text):
        return len(text)

    def flush(self):
        os.write(3, b"0 complete 0 - -\n")


sys.stdout = Reporting()


def add(a, b):
    sys.stdout.flush()
    return 0


def twice(values):
    return values
