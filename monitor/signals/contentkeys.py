"""What two posts must share to match: content keys, token sets and canonical links.

Two named rules, chosen per query:

- ``toolkit``: the Coordination Network Toolkit's (QUT Digital Observatory,
  ``coordination_network_toolkit.similarity``): lower-case, remove every ``@`` and the non-space
  run after it, collapse whitespace. Tokens are its word-boundary split of the same text, and
  links are compared as the platform gives them. Published Toolkit studies reproduce exactly.
- ``extended`` (the default): Unicode NFKC and case folding; short links replaced by the expanded
  URL the platform gives; mentions removed; Arabic-script letter variants unified (ي ى -> ی,
  ك -> ک); tatweel, ZWNJ and Arabic diacritics removed; Persian and Arabic-Indic digits to ASCII;
  whitespace collapsed; trailing emoji and punctuation dropped (a copied text with a '!' or a
  flag added is the same text). Tokens are the key's words (tokens holding a letter or digit),
  and links are canonical (see ``canonical_url``).

A post whose key is empty (only mentions) has no content key: it matches nothing by content.
"""

import hashlib
import unicodedata
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex

Rule = Literal["extended", "toolkit"]
RULES: tuple[Rule, ...] = ("extended", "toolkit")

_MENTION = regex.compile(r"@.*?(?=(?:\s|$))")  # the Toolkit's social_media_cleaner
_TOOLKIT_WORDS = regex.compile(  # the Toolkit's word_tokenizer, split on
    r"\b\p{Word_Break=WSegSpace}*'?", flags=regex.WORD | regex.UNICODE | regex.V1
)
_WORDLIKE = regex.compile(r"[\p{L}\p{N}]")
_ARABIC_SCRIPT = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "\u0640": None, "\u200c": None}
    | {chr(c): None for c in [*range(0x064B, 0x0660), 0x0670]}  # harakat, tanwin, superscript alef
    | {chr(0x06F0 + d): str(d) for d in range(10)}  # Persian digits
    | {chr(0x0660 + d): str(d) for d in range(10)}  # Arabic-Indic digits
)
# What people add at the end of a copied text: emoji (with their joiners, variation selectors,
# keycaps and flag tags) and punctuation; a text of nothing else keeps it.
_TRAILING = regex.compile(r"[\s\p{P}\p{S}\uFE0E\uFE0F\u200D\u20E3\U000E0020-\U000E007F]+$")
_TRACKING = regex.compile(r"utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_[ce]id|igshid|yclid")


def toolkit_text(text: str) -> str:
    """Lower-cased text without mentions, before whitespace is collapsed (the Toolkit's input)."""
    return _MENTION.sub("", text.lower())


def toolkit_key(text: str) -> str:
    return " ".join(toolkit_text(text).split())


def extended_key(text: str, short_links: Mapping[str, str]) -> str:
    expanded = unicodedata.normalize("NFKC", text)
    for short, target in short_links.items():
        expanded = expanded.replace(short, target)
    cleaned = _MENTION.sub("", expanded.casefold()).translate(_ARABIC_SCRIPT)
    key = " ".join(cleaned.split())
    return _TRAILING.sub("", key) or key


def toolkit_tokens(text: str) -> frozenset[str]:
    """The Toolkit's ``tokenize``: word-boundary pieces of the mention-free text, as a set."""
    pieces = _TOOLKIT_WORDS.split(toolkit_text(text))
    return frozenset(word for piece in pieces if piece for word in piece.split())


def extended_tokens(key: str) -> frozenset[str]:
    """The words of an extended key: word-boundary pieces holding a letter or a digit."""
    return frozenset(
        word for piece in _TOOLKIT_WORDS.split(key) for word in piece.split() if wordlike(word)
    )


def wordlike(token: str) -> bool:
    return _WORDLIKE.search(token) is not None


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, tracking parameters (utm_*, fbclid, gclid, ...) and the
    fragment dropped; the rest as given. Unparseable input is returned stripped, unchanged."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not _TRACKING.fullmatch(k.lower())]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def digest(key: str) -> str:
    """A 64-bit hex digest naming a key in indexes; evidence compares the keys themselves."""
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
