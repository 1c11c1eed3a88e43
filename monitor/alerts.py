"""Alert rules, and the events they fire on: bursts, coordination clusters, people talking.

Each rule watches the tags of one watchlist over the two hours up to each tag's newest post.
An event has a key that stays the same while it lasts (a burst's start, a cluster's behaviour and
smallest member, a people threshold), so it is delivered once: the first process to claim
``(rule, event)`` in Redis delivers it. A rule also fires at most once per tag and kind within its
cooldown; an event held back by a cooldown fires later if it is still in view.
"""

import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from monitor import keys, watchlist
from monitor.reports import coordination_section
from monitor.reports.build import span
from monitor.signals import bursts, coordination, people, volume
from monitor.signals.coordination import BEHAVIOURS, Query
from monitor.timewindow import MINUTE_MS, Window, iso, parse_duration

Kind = Literal["burst", "coordination", "people"]
KINDS: tuple[Kind, ...] = ("burst", "coordination", "people")
LOOKBACK_MS = 2 * 3_600_000
PEOPLE_WINDOW_MS = 3_600_000


class InvalidAlert(ValueError):
    """A rule that cannot be kept; the message names the problem."""


class Alert(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    on: tuple[Kind, ...]
    watchlist: str = watchlist.DEFAULT
    cooldown_s: float = Field(ge=0)
    people: int = Field(500, ge=1)  # people talking in the last hour that fire a "people" event
    min_cluster: int = Field(3, ge=2)  # accounts in a cluster that fire a "coordination" event
    slack: bool = False  # a Slack-compatible body ({"text": ...}) instead of the JSON event

    @property
    def id(self) -> str:
        """The same rule added twice is one rule; any difference makes another."""
        return hashlib.blake2b(self.model_dump_json().encode(), digest_size=4).hexdigest()


def make(url: str, on: str, name: str, cooldown: str, people_at: int, slack: bool) -> Alert:
    """A checked rule; raises InvalidAlert (or InvalidListName) naming the first problem."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidAlert(f"invalid webhook {url[:80]!r}: an http:// or https:// URL")
    kinds = tuple(dict.fromkeys(kind.strip() for kind in on.split(",") if kind.strip()))
    unknown = [kind for kind in kinds if kind not in KINDS]
    if not kinds or unknown:
        raise InvalidAlert(f"invalid --on {on[:40]!r}: one or more of {', '.join(KINDS)}")
    period = parse_duration(cooldown)
    if period is None:
        raise InvalidAlert(f"invalid --cooldown {cooldown[:20]!r}: a duration such as 60m")
    if people_at < 1:
        raise InvalidAlert(f"invalid --people {people_at}: at least 1")
    return Alert(url=url, on=cast(tuple[Kind, ...], kinds), watchlist=watchlist.parse_name(name),
                 cooldown_s=period.total_seconds(), people=people_at, slack=slack)  # fmt: skip


async def add(redis: Redis, alert: Alert) -> None:
    """Keep the rule; its watchlist must exist (UnknownList otherwise)."""
    await watchlist.require(redis, alert.watchlist)
    await redis.hset(keys.ALERTS, alert.id, alert.model_dump_json())


async def remove(redis: Redis, alert_id: str) -> bool:
    return bool(await redis.hdel(keys.ALERTS, alert_id))


async def all_alerts(redis: Redis) -> list[Alert]:
    """Every rule; a stored rule this version cannot read is skipped, not fatal."""
    stored = cast(dict[bytes, bytes], await redis.hgetall(keys.ALERTS))
    found = []
    for raw in stored.values():
        with contextlib.suppress(ValidationError):
            found.append(Alert.model_validate_json(raw))
    return sorted(found, key=lambda a: a.id)


@dataclass(frozen=True)
class Event:
    kind: str
    tag: str
    key: str  # the same while the event lasts
    summary: str  # one line for a person
    details: dict[str, object] = field(default_factory=dict)


async def events(redis: Redis, alert: Alert, tags: Sequence[str]) -> list[Event]:
    """What the rule would fire on now, over each tag's last two hours."""
    found: list[Event] = []
    for tag in tags:
        limits = await span(redis, tag)
        if limits is None:
            continue
        window = Window.minutes(max(limits[0], limits[1] - LOOKBACK_MS), limits[1])
        if "burst" in alert.on:
            found += await _bursts(redis, tag, window, limits[0])
        if "coordination" in alert.on:
            found += await _clusters(redis, tag, window, alert.min_cluster)
        if "people" in alert.on:
            found += await _people(redis, tag, limits[1], alert.people)
    return found


async def _bursts(redis: Redis, tag: str, window: Window, first_ms: int) -> list[Event]:
    minutes = await volume.minutes(redis, tag, Window(window.start_ms - 3_600_000, window.end_ms))
    records = await people.in_window(redis, tag, window)
    authors: dict[int, set[str]] = {}
    for r in records:
        authors.setdefault(r.minute, set()).add(r.author_id)
    posts = {m: c.posts for m, c in minutes.items()}
    found = []
    people_ = {m: len(a) for m, a in authors.items()}
    for burst in bursts.bursts(bursts.Series.of(posts, people_, first_ms // MINUTE_MS)):
        if burst.end * MINUTE_MS < window.start_ms:
            continue
        start = iso(burst.start * MINUTE_MS)
        found.append(Event("burst", tag, f"burst:{tag}:{start}",
                           f"#{tag}: burst from {start}, {burst.posts:,} posts, peak "
                           f"{burst.peak_posts:,} at {iso(burst.peak * MINUTE_MS)}",
                           {"start": start, "peak": iso(burst.peak * MINUTE_MS),
                            "end": iso(burst.end * MINUTE_MS), "posts": burst.posts}))  # fmt: skip
    return found


async def _clusters(redis: Redis, tag: str, window: Window, min_size: int) -> list[Event]:
    found = []
    for behaviour in BEHAVIOURS:
        network = await coordination.network(redis, tag, Query(behaviour), window)
        for cluster in network.clusters():
            if len(cluster.members) < min_size:
                continue
            evidence = coordination_section.evidence_command(tag, network, cluster)
            found.append(Event(
                "coordination", tag, f"coordination:{tag}:{behaviour}:{cluster.members[0]}",
                f"#{tag}: {len(cluster.members)} accounts in a {behaviour} cluster "
                f"({cluster.pairs:,} matching post pairs); evidence: {evidence}",
                {"behaviour": behaviour, "size": len(cluster.members),
                 "members": cluster.members[:50], "weight": cluster.weight,
                 "evidence_pairs": cluster.pairs, "evidence": evidence},
            ))  # fmt: skip
    return found


async def _people(redis: Redis, tag: str, newest_ms: int, threshold: int) -> list[Event]:
    window = Window.minutes(newest_ms - PEOPLE_WINDOW_MS, newest_ms)
    count = people.distinct_people(await people.in_window(redis, tag, window))
    if count < threshold:
        return []
    return [Event("people", tag, f"people:{tag}:{threshold}",
                  f"#{tag}: {count:,} people talking in the hour to {iso(newest_ms)}",
                  {"people": count, "threshold": threshold, "until": iso(newest_ms)})]  # fmt: skip
