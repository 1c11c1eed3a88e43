"""Hashtag rules: one normal form per tag, whatever script or spelling it was written in.

A tag is Unicode NFKC, case-folded, without the leading ``#``; it is made of letters, marks,
digits and ``_`` of any script, with ZWNJ (U+200C) kept inside it (Persian writes it within words).
In running text a tag needs at least one character that is not a digit (as on X: "#1" is no tag),
and must not follow a word character, ``&`` or ``/`` (so URLs and HTML entities are not tags).
"""

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import regex

MAX_LENGTH = 100
_CHAR = r"[\p{L}\p{M}\p{N}_]"
_BODY = rf"{_CHAR}(?:[{_CHAR[1:-1]}\u200c]*{_CHAR})?"
_IN_TEXT = regex.compile(rf"(?<![\p{{L}}\p{{M}}\p{{N}}_&/])[#\uff03]({_BODY})")
_WHOLE = regex.compile(rf"{_BODY}")
_DIGITS = regex.compile(r"\p{N}+")


class InvalidTag(ValueError):
    """A user-supplied tag that cannot be a hashtag; the message names the problem."""


def normalise(tag: str) -> str:
    """The tag's normal form, e.g. '#IRGCOutOfIraq' -> 'irgcoutofiraq'. Assumes a valid tag."""
    return unicodedata.normalize("NFKC", tag).lstrip("#").casefold()


def is_valid(tag: str) -> bool:
    """Whether a normalised tag has the shape of a hashtag."""
    return len(tag) <= MAX_LENGTH and _WHOLE.fullmatch(tag) is not None


def parse(raw: str) -> str:
    """Validate a tag typed by a user and return its normal form; raise InvalidTag otherwise."""
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if unicodedata.normalize("NFKC", raw.strip()).startswith("##"):
        raise InvalidTag(f"invalid tag {shown!r}: one '#' at most, at the start")
    tag = normalise(raw.strip())
    if not tag:
        raise InvalidTag(f"invalid tag {shown!r}: empty")
    if len(tag) > MAX_LENGTH:
        raise InvalidTag(f"invalid tag {shown!r}: longer than {MAX_LENGTH} characters")
    if any(ch.isspace() for ch in tag):
        raise InvalidTag(f"invalid tag {shown!r}: contains white space")
    if not _WHOLE.fullmatch(tag):
        raise InvalidTag(
            f"invalid tag {shown!r}: only letters, marks, digits and _ (ZWNJ inside) are allowed"
        )
    return tag


def extract(text: str) -> list[str]:
    """The hashtags written in a text, as written (without '#'), first occurrence of each form."""
    seen: dict[str, None] = {}
    for match in _IN_TEXT.finditer(text):
        tag = match.group(1)
        if not _DIGITS.fullmatch(tag):
            seen.setdefault(tag, None)
    return list(seen)


@lru_cache(maxsize=65_536)
def _normal_or_none(written: str) -> str | None:
    tag = normalise(written)
    return tag if tag and is_valid(tag) else None


def carried(written: Iterable[str]) -> dict[str, str]:
    """Normal form -> the spelling used (without '#'), for each valid tag, first spelling wins.

    Spellings repeat across a campaign's posts, so their normal forms are cached.
    """
    found: dict[str, str] = {}
    for spelling in written:
        tag = _normal_or_none(spelling)
        if tag is not None and tag not in found:
            found[tag] = spelling.lstrip("#\uff03")
    return found
