"""How a post's words and author are shown in tables, the same in every format."""

SHOWN = 160  # characters of a post's text in a table; JSON has it whole


def shortened(text: str | None, limit: int = SHOWN) -> str:
    """One line of at most ``limit`` characters, cut with an ellipsis ('' when not stored)."""
    line = " ".join((text or "").split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def author(handle: str | None, name: str | None) -> str:
    """'@handle (Name)', or what of it is known."""
    shown = f"@{handle}" if handle else ""
    return f"{shown} ({name})" if name and shown else name or shown
