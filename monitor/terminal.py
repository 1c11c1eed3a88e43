"""Post text is hostile: make it safe to print on a terminal."""

import unicodedata

_KEEP = {"\n", "\t"}


def clean(text: str) -> str:
    """Drop control and format characters (ANSI escapes, bidi overrides) except newline and tab.

    ZWNJ and ZWJ are kept: Persian words and emoji need them, and they cannot reorder text.
    """
    return "".join(
        ch
        for ch in text
        if ch in _KEEP
        or ch in "\u200c\u200d"
        or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )
