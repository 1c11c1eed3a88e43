"""Folds posts into per-tag state: one server-side script per tag and batch, all in one round trip.

Dedupe per (tag, post) happens inside the script, atomically with that tag's updates, so a batch
applied twice (a retry, a redelivery after a crash half-way) changes only what is still missing.
A tag's posts travel as one MessagePack argument, and the script updates each counter once per
batch.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import msgpack
import orjson
from redis.asyncio import Redis

from monitor import connection, keys, poststore
from monitor.settings import Settings
from monitor.signals import lastwords, matching
from monitor.signals.records import Arrival

_HERE = Path(__file__).parent
_PARTS = ("hashed", "coordinate", "pairlog", "tally", "apply")
_SCRIPT = "".join((_HERE / f"{name}.lua").read_text() for name in _PARTS)
_VERDICTS = {"n": "new", "o": "too_old", "d": "duplicate"}
_RANK = {"unwatched": 0, "duplicate": 1, "too_old": 2, "new": 3}  # a post new to any tag is new

Batch = Sequence[tuple[str | None, Sequence[Arrival]]]  # (import run id, posts) per stream entry


@dataclass
class Outcome:
    """What a batch did to each post: new to some tag, seen before, too old, or unwatched."""

    counts: Counter[str] = field(default_factory=Counter)
    by_run: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, run: str | None, verdict: str) -> None:
        self.counts[verdict] += 1
        if run:
            self.by_run[run][verdict] += 1

    def merge(self, other: "Outcome") -> None:
        self.counts.update(other.counts)
        for run, counts in other.by_run.items():
            self.by_run[run].update(counts)


@dataclass(frozen=True)
class Limits:
    """What bounds a tag's state: retention, and what coordination queries may ask for."""

    retention_ms: int
    max_window_ms: int = 300_000
    min_similarity: Fraction = Fraction(4, 5)
    min_tokens: int = 5
    max_matches: int = 100

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            retention_ms=int(settings.retention_days * 86_400_000),
            max_window_ms=settings.coordination_max_window_s * 1000,
            min_similarity=Fraction(str(settings.coordination_min_similarity)),
            min_tokens=settings.coordination_min_tokens,
            max_matches=settings.coordination_max_matches,
        )

    def args(self) -> list[int | bytes]:
        ratio = self.min_similarity
        code_of = {index: code for code, index in matching.pairs_codes().items()}
        names = orjson.dumps([code_of[index] for index in matching.INDEXES])
        return [self.max_window_ms, ratio.numerator, ratio.denominator, names, self.max_matches]


@dataclass
class _TagBatch:
    """One tag's share of a batch: script rows, and which post each row is."""

    rows: list[list[object]] = field(default_factory=list)
    order: list[int] = field(default_factory=list)
    newest: int = 0


def _by_tag(
    posts: Sequence[Arrival], last: dict[str, frozenset[str]], limits: Limits
) -> dict[str, _TagBatch]:
    per_tag: dict[str, _TagBatch] = defaultdict(_TagBatch)
    for index, post in enumerate(posts):
        mine = last.keys() & post.spellings
        if not mine:
            continue
        minute = post.t_ms // 60_000
        kind_field, platform_field = f"{minute}:{post.kind}", f"{minute}@{post.platform}"
        for tag in mine:
            share = per_tag[tag]
            features: bytes | None = None
            if post.features:
                similarity, tokens = limits.min_similarity, limits.min_tokens
                held = matching.for_tag(post.features, last[tag], similarity, tokens)
                features = matching.pack(matching.stored(held))
            share.rows.append(
                [post.key, post.t_ms, kind_field, platform_field, post.spellings[tag],
                 post.record, features]
            )  # fmt: skip
            share.order.append(index)
            share.newest = max(share.newest, post.t_ms)
    return per_tag


# Posts per script call: each call blocks the server while it runs, and a tag's dense keys make
# a post cost up to a few hundred pair checks, so calls stay well under Redis's script time limit.
SCRIPT_POSTS = 100


def _bodies(posts: Sequence[Arrival], holders: dict[int, list[str]]) -> list[poststore.Held]:
    """Each held post's body, and the body it gives the post it refers to."""
    found = []
    for index, tags in holders.items():
        post = posts[index]
        if post.body is None:
            continue
        own, referred = orjson.loads(post.body)
        found.append(poststore.Held(post.key, post.t_ms, tags, orjson.dumps(own).decode()))
        if referred is not None:
            ref = f"{post.platform}:{orjson.loads(post.record)[6]}"
            found.append(
                poststore.Held(ref, post.t_ms, tags, orjson.dumps(referred).decode(), True)
            )
    return found


async def apply(redis: Redis, batches: Batch, watched: set[str], limits: Limits) -> Outcome:
    """Apply (run id, posts) batches to every watched tag they carry; safe to repeat."""
    posts = [arrival for _, batch in batches for arrival in batch]
    verdicts = ["unwatched"] * len(posts)
    carried = {tag for post in posts for tag in watched.intersection(post.spellings)}
    per_tag = _by_tag(posts, await lastwords.of(redis, carried, watched), limits)
    holders: dict[int, list[str]] = defaultdict(list)  # post -> the tags that hold it
    if per_tag:
        orders, calls = [], []
        for tag, share in per_tag.items():
            for start in range(0, len(share.rows), SCRIPT_POSTS):
                rows = share.rows[start : start + SCRIPT_POSTS]
                orders.append((tag, share.order[start : start + SCRIPT_POSTS]))
                packed = msgpack.packb(rows, use_bin_type=False)  # what the server's reader takes
                args = [limits.retention_ms, share.newest, packed, *limits.args(), tag]
                calls.append((keys.tag_keys(tag, matching.INDEXES), args))
        answers = await connection.run_scripts(redis, connection.script(redis, _SCRIPT), calls)
        for (tag, order), letters in zip(orders, answers, strict=True):
            for index, letter in zip(order, letters.decode(), strict=True):
                verdict = _VERDICTS[letter]
                if _RANK[verdict] > _RANK[verdicts[index]]:
                    verdicts[index] = verdict
                if verdict != "too_old":
                    holders[index].append(tag)
    await poststore.hold(redis, _bodies(posts, holders))
    outcome = Outcome()
    position = 0
    for run, batch in batches:
        for verdict in verdicts[position : position + len(batch)]:
            outcome.add(run, verdict)
        position += len(batch)
    return outcome
