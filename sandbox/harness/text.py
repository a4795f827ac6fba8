"""Shortening program output and error text for verdicts (they end up in prompts)."""

MESSAGE_LIMIT = 2000


def truncate(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Keep the head and the tail, where errors and their causes usually are."""
    if len(text) <= limit:
        return text
    head = limit * 3 // 5
    tail = limit - head
    omitted = len(text) - head - tail
    return f"{text[:head]}\n... [{omitted} characters omitted] ...\n{text[-tail:]}"


def decode_output(data: bytes, limit: int = MESSAGE_LIMIT) -> str:
    return truncate(data.decode("utf-8", "replace"), limit)
