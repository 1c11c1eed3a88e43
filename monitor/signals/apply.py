"""Folds posts into per-tag state: one server-side script per tag and batch, all in one round trip.

Dedupe per (tag, post) happens inside the script, atomically with that tag's updates, so a batch
applied twice (a retry, a redelivery after a crash half-way) changes only what is still missing.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from monitor import keys
from monitor.models import Post
from monitor.signals import records

_SCRIPT = (Path(__file__).parent / "apply.lua").read_text()


@dataclass
class Outcome:
    """What a batch did to each post: new to some tag, seen before, too old, or unwatched."""

    counts: Counter[str] = field(default_factory=Counter)
    by_run: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, run: str | None, verdict: str) -> None:
        self.counts[verdict] += 1
        if run:
            self.by_run[run][verdict] += 1


def _arguments(posts: Sequence[Post], watched: set[str]) -> dict[str, list[bytes | str | int]]:
    per_tag: dict[str, list[bytes | str | int]] = defaultdict(list)
    for post in posts:
        tags = post.tags()
        mine = watched.intersection(tags)
        if not mine:
            continue
        all_tags = tuple(tags)
        for tag in mine:
            record = records.from_post(post, tags[tag], all_tags)
            per_tag[tag] += [
                record.key, record.t_ms, record.kind, record.platform, record.spelling,
                record.dumps(),
            ]  # fmt: skip
    return per_tag


async def apply(
    redis: Redis,
    batches: Sequence[tuple[str | None, Sequence[Post]]],
    watched: set[str],
    retention_ms: int,
) -> Outcome:
    """Apply (run id, posts) batches to every watched tag they carry; safe to repeat."""
    posts = [post for _, batch in batches for post in batch]
    per_tag = _arguments(posts, watched)
    script = redis.register_script(_SCRIPT)
    pipe = redis.pipeline(transaction=False)
    for tag, args in per_tag.items():
        await script(keys=keys.tag_keys(tag), args=[retention_ms, *args], client=pipe)
    replies = await pipe.execute() if per_tag else []
    new: set[str] = set()
    stale: set[str] = set()
    for added, old in replies:
        new.update(k.decode() for k in added)
        stale.update(k.decode() for k in old)
    return _judge(batches, watched, new, stale)


def _judge(
    batches: Sequence[tuple[str | None, Sequence[Post]]],
    watched: set[str],
    new: set[str],
    stale: set[str],
) -> Outcome:
    outcome = Outcome()
    for run, batch in batches:
        for post in batch:
            key = records.post_key(post)
            if not watched.intersection(post.tags()):
                outcome.add(run, "unwatched")
            elif key in new:
                new.discard(key)  # a second copy in the same batch is a duplicate
                outcome.add(run, "new")
            elif key in stale:
                outcome.add(run, "too_old")
            else:
                outcome.add(run, "duplicate")
    return outcome
