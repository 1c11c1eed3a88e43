"""The compact per-tag record of a post: all that reports need, a few hundred bytes a post.

Stored as a JSON array; the apply script reads its first three fields (time, kind, platform)
when retention drops it, so their order is fixed.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import orjson

from monitor import poststore
from monitor.models import Kind, Post
from monitor.signals import matching
from monitor.signals.matching import Features


@dataclass(frozen=True, slots=True)
class Record:
    """What a tag keeps of one post; ``key`` is '<platform>:<id>', unique across platforms."""

    key: str
    t_ms: int
    kind: Kind
    platform: str
    author_id: str
    handle: str | None
    url: str | None
    ref_id: str | None
    ref_author_id: str | None
    ref_url: str | None
    tags: tuple[str, ...]
    author_created_ms: int | None = None  # absent from records stored by earlier versions

    @property
    def minute(self) -> int:
        return self.t_ms // 60_000

    @property
    def ref_key(self) -> str | None:
        return f"{self.platform}:{self.ref_id}" if self.ref_id else None


class Arrival(NamedTuple):
    """A post as aggregators see it: what the apply script needs, and the record to store.

    Publishers compute it once per post and send it in the stream instead of the post, so
    aggregators parse nothing per post: a row is [key, t_ms, kind, platform, {tag: spelling},
    record JSON, coordination features, body JSON] (rows of six, from earlier versions, have no
    features and take no part in coordination; rows of seven have no body: monitor.poststore).
    """

    key: str
    t_ms: int
    kind: str
    platform: str
    spellings: dict[str, str]
    record: str
    features: Features | None = None
    body: str | None = None

    def row(self) -> list[object]:
        return list(self)

    @classmethod
    def from_row(cls, row: object) -> "Arrival":
        """Check a row read from the stream, so a malformed one is refused before any script runs.

        Raises ValueError naming the problem.
        """
        if not isinstance(row, list) or len(row) not in (6, 7, 8):
            raise ValueError("a digest row is not a list of 6 to 8")
        key, t_ms, kind, platform, spellings, record, features, body = [*row, None, None][:8]
        if not (isinstance(key, str) and type(t_ms) is int and isinstance(kind, str)
                and isinstance(platform, str) and isinstance(spellings, dict)
                and isinstance(record, str) and isinstance(features, dict | None)
                and isinstance(body, str | None)):  # fmt: skip
            raise ValueError(f"digest row for {str(key)[:60]!r} has a field of the wrong type")
        if not record.startswith(orjson.dumps([t_ms, kind, platform]).decode()[:-1] + ","):
            raise ValueError(f"digest row for {key[:60]!r} disagrees with its record")
        if features is not None:
            matching.check(features)
        return cls(key, t_ms, kind, platform, spellings, record, features, body)


def epoch_ms(moment: datetime) -> int:
    """Exact milliseconds since the epoch (a float seconds x 1000 can be 1 ms off); until 2200."""
    return math.floor(moment.timestamp()) * 1000 + moment.microsecond // 1000


def arrival(post: Post) -> Arrival:
    """The digest of a validated post; the record's fields are in the order ``loads`` reads."""
    t_ms, key = epoch_ms(post.created_at), f"{post.platform}:{post.id}"
    who = (post.author_id, post.author_handle, post.url)
    ref = (post.referenced_id, post.referenced_author_id, post.referenced_url)
    created = epoch_ms(post.author_created_at) if post.author_created_at else None
    record = orjson.dumps([t_ms, post.kind, post.platform, *who, *ref, list(post.tags), created])
    ref_key = f"{post.platform}:{post.referenced_id}" if post.referenced_id else None
    coordination = matching.features(post, ref_key)
    return Arrival(key, t_ms, post.kind, post.platform, post.tags, record.decode(), coordination,
                   poststore.body(post))  # fmt: skip


def loads(key: str, raw: bytes) -> Record:
    t_ms, kind, platform, author, handle, url, ref, ref_author, ref_url, tags, *more = orjson.loads(
        raw
    )
    created = more[0] if more else None
    return Record(
        key, t_ms, kind, platform, author, handle, url, ref, ref_author, ref_url, tuple(tags),
        created,
    )  # fmt: skip
