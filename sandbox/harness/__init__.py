"""Code that runs inside the sandbox: the fork server and everything a job process executes.

Only the standard library of the sandbox's Python (3.11) may be used here. The host never
installs this package in the sandbox: `bootstrap.py` receives these modules' source over the
worker's stdin and imports them from memory, so the sandbox needs no path of the host. The
host imports a few of the same modules (framing, test names) as `sandbox.harness`.
"""
