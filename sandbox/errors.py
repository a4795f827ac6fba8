"""Errors a `Sandbox` raises instead of running programs unsafely or scoring them wrongly."""


class SandboxUnavailable(RuntimeError):
    """The configured isolation cannot run here; the message says what is missing and the fix."""
