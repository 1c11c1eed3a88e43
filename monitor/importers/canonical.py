"""The project's own JSON Lines: one ``Post.model_dump_json()`` per line, read back unchanged."""

import re

from pydantic import ValidationError

from monitor.models import Post

_LINE_COLUMN = re.compile(r"at line \d+ column")  # a line holds one document: its column is enough
_SIGNATURE = frozenset({"platform", "id", "author_id", "created_at"})


def parse_line(line: bytes) -> Post:
    """One line as a Post; a ValueError names the first bad field, on one line."""
    try:
        return Post.model_validate_json(line)
    except ValidationError as error:
        raise ValueError(reason(error)) from None


def looks_like(obj: object) -> bool:
    """Whether a decoded line has the required fields of a Post, for format sniffing."""
    return isinstance(obj, dict) and obj.keys() >= _SIGNATURE


def reason(error: ValidationError) -> str:
    """The first problem of a Post validation error, short and on one line (input is hostile)."""
    first = error.errors(include_url=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        cause = _LINE_COLUMN.sub("at column", str(first.get("ctx", {}).get("error", "")))
        return "invalid JSON (truncated?)" if cause.startswith("EOF") else f"invalid JSON: {cause}"
    field = ".".join(str(part) for part in first["loc"])
    message = " ".join(str(first["msg"]).split())[:120]
    return f"{field}: {message}" if field else message
