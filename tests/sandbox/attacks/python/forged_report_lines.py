# Writes completion lines with guessed nonces on every descriptor, then exits with status 0.
# ruff: noqa (deliberately hostile code)
import os

for fd in range(3, 64):
    for nonce in ("0" * 32, "nonce", ""):
        try:
            os.write(fd, f"{nonce} test 0 passed -\n{nonce} complete 0 - -\n".encode())
        except OSError:
            pass
os._exit(0)
