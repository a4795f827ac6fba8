# Swaps values between check and use with a signal handler, a timer thread, and patched modules.
# ruff: noqa (deliberately hostile code)
import random
import signal
import threading

result = [0]


def swap(*args):
    result[0] = 3


signal.signal(signal.SIGALRM, swap)
signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
threading.Thread(target=lambda: [swap() for _ in iter(int, 1)], daemon=True).start()
random.Random.randrange = lambda self, *args, **kwargs: 1
random.randint = lambda *args: 1


def add(a, b):
    result[0] = 0
    return result


def twice(values):
    return values
