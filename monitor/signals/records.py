"""The compact per-tag record of a post: all that reports need, a few hundred bytes a post.

Stored as a JSON array; the first four fields are read by the apply script when it trims
retention, so their order is fixed.
"""

from dataclasses import dataclass

import orjson

from monitor.models import Kind, Post


@dataclass(frozen=True)
class Record:
    """What a tag keeps of one post; ``key`` is '<platform>:<id>', unique across platforms."""

    key: str
    t_ms: int
    kind: Kind
    platform: str
    spelling: str
    author_id: str
    handle: str | None
    url: str | None
    ref_id: str | None
    ref_author_id: str | None
    ref_url: str | None
    tags: tuple[str, ...]

    @property
    def minute(self) -> int:
        return self.t_ms // 60_000

    @property
    def ref_key(self) -> str | None:
        return f"{self.platform}:{self.ref_id}" if self.ref_id else None

    def dumps(self) -> bytes:
        return orjson.dumps(
            [
                self.t_ms,
                self.kind,
                self.platform,
                self.spelling,
                self.author_id,
                self.handle,
                self.url,
                self.ref_id,
                self.ref_author_id,
                self.ref_url,
                list(self.tags),
            ]
        )


def post_key(post: Post) -> str:
    return f"{post.platform}:{post.id}"


def from_post(post: Post, spelling: str, tags: tuple[str, ...]) -> Record:
    return Record(
        key=post_key(post),
        t_ms=int(post.created_at.timestamp() * 1000),
        kind=post.kind,
        platform=post.platform,
        spelling=spelling,
        author_id=post.author_id,
        handle=post.author_handle,
        url=post.url,
        ref_id=post.referenced_id,
        ref_author_id=post.referenced_author_id,
        ref_url=post.referenced_url,
        tags=tags,
    )


def loads(key: str, raw: bytes) -> Record:
    t_ms, kind, platform, spelling, author, handle, url, ref, ref_author, ref_url, tags = (
        orjson.loads(raw)
    )
    return Record(
        key, t_ms, kind, platform, spelling, author, handle, url, ref, ref_author, ref_url,
        tuple(tags),
    )  # fmt: skip
