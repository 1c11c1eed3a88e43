"""People talking, exactly (sets, not estimates), from the compact records of a window.

- Per tag: distinct accounts (platform, account id) that posted, reposted, quoted or replied.
- Per post: distinct accounts that reposted, quoted or replied to it, not counting its own
  author (a thread of self-replies is not people talking), whether or not the post itself
  carries the tag.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from monitor import hashed, keys
from monitor.signals.records import Record, loads
from monitor.timewindow import Window


async def in_window(redis: Redis, tag: str, window: Window) -> list[Record]:
    """The tag's records whose post time lies in the window, oldest first."""
    ids = cast(
        list[bytes], await redis.zrangebyscore(keys.timeline(tag), window.start_ms, window.end_ms)
    )  # members only, no scores
    posts = [post.decode() for post in ids]
    raws = await hashed.hmget(redis, keys.records(tag), posts)
    return [loads(post, raw) for post, raw in zip(posts, raws, strict=True) if raw]


def account(record: Record) -> tuple[str, str]:
    return record.platform, record.author_id


def distinct_people(records: Iterable[Record]) -> int:
    return len({account(r) for r in records})


def accounts_by_posts(records: Sequence[Record]) -> list[tuple[tuple[str, str], int]]:
    """(platform, account id) and posts, most active first; ties by id for a stable order."""
    counts = Counter(account(r) for r in records)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class Talk:
    """What a tag's window says about one referenced post."""

    key: str
    people: set[tuple[str, str]] = field(default_factory=set)
    kinds: Counter[str] = field(default_factory=Counter)
    url: str | None = None


def talked_about(records: Sequence[Record]) -> list[Talk]:
    """Referenced posts by people talking, most first; ties by post key for a stable order.
    A post's address is its own record's when the tag holds it, else the one talking posts give."""
    talks: dict[str, Talk] = defaultdict(lambda: Talk(""))
    for record in records:
        if record.kind == "original" or record.ref_key is None:
            continue
        talk = talks[record.ref_key]
        talk.key = record.ref_key
        if record.ref_url is not None and (talk.url is None or record.ref_url < talk.url):
            talk.url = record.ref_url  # where posts disagree on it, the smallest
        talk.kinds[record.kind] += 1
        if record.author_id != record.ref_author_id:
            talk.people.add(account(record))
    own = {r.key: r.url for r in records}
    for talk in talks.values():
        talk.url = own.get(talk.key) or talk.url
    return sorted(talks.values(), key=lambda t: (-len(t.people), t.key))
