"""Counts in words, so that a message reads "1 list" and "2 entries", never "1 lists"."""

_IRREGULAR = {"entry": "entries", "query": "queries", "reply": "replies", "is": "are"}


def plural(count: int, noun: str) -> str:
    """'1 list', '2 lists', '1,200 entries': the count with its noun in the right number."""
    return f"{count:,} {noun if count == 1 else _IRREGULAR.get(noun, noun + 's')}"
