"""Post text is hostile: make it safe to print on a terminal."""

import regex

# Control, format, surrogate and private-use characters, but newline, tab, ZWNJ and ZWJ.
_HOSTILE = regex.compile(r"[[\p{Cc}\p{Cf}\p{Cs}\p{Co}]--[\n\t\u200c\u200d]]", flags=regex.V1)


def clean(text: str) -> str:
    """Drop control and format characters (ANSI escapes, bidi overrides) except newline and tab.

    ZWNJ and ZWJ are kept: Persian words and emoji need them, and they cannot reorder text.
    """
    return _HOSTILE.sub("", text)
