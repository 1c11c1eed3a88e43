"""What the coordination index keeps of a post: the keys it can match other posts on.

A post is indexed, per tag, under one entry per (namespace, key): its content key (``p``), each
link (``l``), the prefix tokens of its token set (``s``, for co-similar), the post it reposts
(``r``) or replies to (``y``). Keys are 64-bit digests; evidence compares the stored texts
themselves. An entry says which text rules it holds for (``t`` toolkit, ``e`` extended, ``-``
for rule-free keys): the two rules share one entry wherever they give the same key, which is
most of the time, so the index holds each key once.

Co-similar candidates come from prefix filtering (Chaudhuri, Ganti and Kaushik, "A primitive
operator for similarity joins", ICDE 2006; Bayardo, Ma and Srikant, "Scaling up all pairs
similarity search", WWW 2007): order every token set by one fixed order; two sets with Jaccard
similarity J >= t share a token among the first n - ceil(t n) + 1 tokens of each. Unlike
MinHash/LSH it misses no pair, so networks are exact; t here is the lowest threshold a query may
ask for (``coordination_min_similarity``). The fixed order puts likely-rare tokens first (longer
before shorter, punctuation last) and the words of the tags watched when the index began last
(monitor.signals.lastwords), so that common tokens seldom bring candidates.
"""

import math
import re
from collections import defaultdict
from fractions import Fraction
from typing import Any, cast

import msgpack
import orjson

from monitor.models import Post
from monitor.poststore import Body
from monitor.signals import contentkeys
from monitor.signals.contentkeys import RULES

Features = dict[str, Any]  # JSON-able; see ``features``, and ``pack`` for how a tag keeps them
_DIGEST = re.compile(r"[0-9a-f]{16}")
NAMESPACES = {"p": "co-post", "l": "co-link", "s": "co-similar", "r": "co-repost", "y": "co-reply"}
RULE_CODES = {"toolkit": "t", "extended": "e"}
_FLAGS = ("t", "e", "te", "-")


def index_name(behaviour: str, rule: str | None = None) -> str:
    """'co-post:extended', 'co-repost', ...: rule-free behaviours have one pairs set."""
    return f"{behaviour}:{rule}" if behaviour in RULE_BOUND else behaviour


RULE_BOUND = ("co-post", "co-link", "co-similar")
INDEXES: tuple[str, ...] = (
    *(index_name(b, rule) for b in RULE_BOUND for rule in RULES), "co-repost", "co-reply"
)  # fmt: skip


def pairs_codes() -> dict[str, str]:
    """'<namespace><rule code>' -> the name of the pairs set it feeds ('pe' -> co-post:extended)."""
    codes = {f"{ns}{RULE_CODES[rule]}": index_name(b, rule)
             for ns, b in NAMESPACES.items() if b in RULE_BOUND for rule in RULES}  # fmt: skip
    return codes | {"r-": "co-repost", "y-": "co-reply"}


def namespace(index: str) -> str:
    behaviour = index.partition(":")[0]
    return next(ns for ns, name in NAMESPACES.items() if name == behaviour)


def _token_order(token: str) -> tuple[bool, int, str]:
    return not contentkeys.wordlike(token), -len(token), token


def _shared(namespace: str, keys_by_rule: dict[str, list[str]]) -> list[list[str]]:
    """One entry per distinct key, flagged with the rules that give it."""
    flags: defaultdict[str, str] = defaultdict(str)
    for rule in ("toolkit", "extended"):
        for key in keys_by_rule.get(rule, []):
            flags[contentkeys.digest(key)] += RULE_CODES[rule]
    return [[namespace, digest, rules] for digest, rules in flags.items()]


def features(post: Post, ref_key: str | None) -> Features:
    """The tag-independent part: author, entries, and what evidence shows."""
    if post.kind == "repost":
        entries = [["r", contentkeys.digest(ref_key), "-"]] if ref_key else []
        return {"a": post.author_id, "e": entries, "r": ref_key}
    replies = ref_key and post.kind == "reply"
    entries = [["y", contentkeys.digest(ref_key), "-"]] if replies and ref_key else []
    key_t = contentkeys.toolkit_key(post.text)
    key_e = contentkeys.extended_key(post.text, post.short_links)
    links_t = list(dict.fromkeys(post.links))
    links_e = list(dict.fromkeys(contentkeys.canonical_url(link) for link in links_t))
    content = {"toolkit": [key_t] if key_t else [], "extended": [key_e] if key_e else []}
    entries += _shared("p", content) + _shared("l", {"toolkit": links_t, "extended": links_e})
    tokens = {
        "toolkit": sorted(contentkeys.toolkit_tokens(post.text), key=_token_order),
        "extended": sorted(contentkeys.extended_tokens(key_e), key=_token_order),
    }
    return {
        "a": post.author_id,
        "e": entries,
        "r": ref_key if replies else None,
        "s": tokens,
        "k": {"toolkit": key_t, "extended": key_e},
        "l": {"toolkit": links_t, "extended": links_e},
    }


def check(features: Features) -> None:
    """Refuse features the apply script could not read; raises ValueError naming the field."""
    if not isinstance(features.get("a"), str):
        raise ValueError("coordination features without an author")
    entries, tokens = features.get("e"), features.get("s", {})
    if not isinstance(entries, list) or not all(
        isinstance(e, list) and len(e) == 3 and e[0] in NAMESPACES
        and _DIGEST.fullmatch(str(e[1])) and e[2] in _FLAGS
        for e in entries
    ):  # fmt: skip
        raise ValueError("coordination features with a malformed entry")
    if not isinstance(tokens, dict) or not all(
        rule in RULES and isinstance(words, list) and all(isinstance(w, str) for w in words)
        for rule, words in tokens.items()
    ):
        raise ValueError("coordination features with malformed tokens")


def for_tag(
    base: Features, last: frozenset[str], min_similarity: Fraction, min_tokens: int
) -> Features:
    """The features as one tag's index stores them: with that tag's co-similar prefix entries,
    under the fixed order with the tag's ``last`` words (monitor.signals.lastwords) last."""
    tokens: dict[str, list[str]] | None = base.get("s")
    if not tokens:
        return base
    prefixes: dict[str, list[str]] = {}
    for rule, ordered in tokens.items():
        if len(ordered) < min_tokens:
            continue
        ordered = [t for t in ordered if t not in last] + [t for t in ordered if t in last]
        size = len(ordered)
        prefixes[rule] = ordered[: size - math.ceil(min_similarity * size) + 1]
    return {**base, "e": base["e"] + _shared("s", prefixes)}


def stored(features: Features) -> Features:
    """What a tag's index keeps of a post's features: no texts or links (the post store has the
    post's words, ``said`` gives them back), no empty reply, and the extended tokens only where
    they differ from the toolkit ones, as positions among those where the toolkit ones hold them
    all (most often: the toolkit's keep punctuation too)."""
    drop = ("k", "l", "r") if features.get("r") is None else ("k", "l")
    kept = {name: value for name, value in features.items() if name not in drop}
    tokens = features.get("s")
    if not tokens:
        return kept
    toolkit, extended = tokens.get("toolkit", []), tokens.get("extended", [])
    if extended == toolkit:
        kept["s"] = {"toolkit": toolkit}
    elif extended and set(extended) <= set(toolkit):
        at = {token: position for position, token in enumerate(toolkit)}
        kept["s"] = {"toolkit": toolkit, "extended": [at[token] for token in extended]}
    return kept


def pack(features: Features) -> bytes:
    """Stored features as a tag keeps them: MessagePack, a third shorter than JSON (a string's
    length in one byte where JSON quotes and separates it). Packed in the str family only, the
    one the server's MessagePack reader takes."""
    return cast(bytes, msgpack.packb(features, use_bin_type=False))


def unpack(raw: bytes) -> Features:
    """Stored features, packed (``pack``) or as JSON (earlier versions: a JSON object starts with
    '{', a packed map never does)."""
    found = orjson.loads(raw) if raw[:1] == b"{" else msgpack.unpackb(raw)
    return cast(Features, found)


def said(features: Features, body: Body | None) -> Features | None:
    """Features with their content keys and links, from the stored ones and the post's words (as
    ``features`` gives them); None when they need words the post store no longer holds."""
    if "k" in features or "s" not in features:  # stored whole (earlier versions), or a repost's
        return features
    if body is None:
        return None
    key_t = contentkeys.toolkit_key(body.text)
    key_e = contentkeys.extended_key(body.text, body.short_links)
    links_t = list(dict.fromkeys(body.links))
    links_e = list(dict.fromkeys(contentkeys.canonical_url(link) for link in links_t))
    return {
        **features,
        "k": {"toolkit": key_t, "extended": key_e},
        "l": {"toolkit": links_t, "extended": links_e},
    }
