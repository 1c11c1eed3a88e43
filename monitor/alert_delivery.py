"""Delivering alert events to webhooks: claimed once, retried (see ``webhooks``), and recorded
in Redis: every delivery, delivered or not, is one entry of the deliveries stream with its
attempts, HTTP status and error, for ``hashmon alerts list --deliveries``.
"""

import time
from dataclasses import dataclass
from typing import cast

import aiohttp
import orjson
from redis.asyncio import Redis

from monitor import keys, webhooks
from monitor.alerts import LOOKBACK_MS, Alert, Event
from monitor.reports.build import GENERATED_BY

DELIVERIES_KEPT = 10_000


@dataclass(frozen=True)
class Delivery:
    alert: str
    event: str
    delivered: bool
    attempts: int
    status: int | None
    error: str | None


def body(alert: Alert, event: Event) -> bytes:
    if alert.slack:
        return orjson.dumps({"text": f"hashmon: {event.summary}"})
    return orjson.dumps({"alert": alert.id, "kind": event.kind, "tag": event.tag, "key": event.key,
                         "summary": event.summary, "details": event.details,
                         "generated_by": GENERATED_BY})  # fmt: skip


async def claim(redis: Redis, alert: Alert, event: Event) -> bool:
    """Whether this process delivers the event: new to the rule, and the rule not cooling down."""
    cooling = keys.alert_cooling(alert.id, event.tag, event.kind)
    if await redis.exists(cooling):
        return False
    seen_for = max(int(alert.cooldown_s), LOOKBACK_MS // 1000 * 2)
    if not await redis.set(keys.alert_seen(alert.id, event.key), "1", nx=True, ex=seen_for):
        return False
    if alert.cooldown_s >= 1:
        await redis.set(cooling, "1", ex=int(alert.cooldown_s))
    return True


async def deliver(
    redis: Redis, session: aiohttp.ClientSession, alert: Alert, event: Event,
    attempts: int = 3, backoff_s: float = 1.0,
) -> Delivery:  # fmt: skip
    """POST the event, retrying passing failures; the outcome is recorded either way."""
    sent = await webhooks.post(session, alert.url, body(alert, event), "application/json",
                               attempts, backoff_s)  # fmt: skip
    done = Delivery(alert.id, event.key, sent.delivered, sent.attempts, sent.status, sent.error)
    await record(redis, done)
    return done


async def record(redis: Redis, done: Delivery) -> None:
    await redis.xadd(
        keys.ALERT_DELIVERIES,
        {"alert": done.alert, "event": done.event, "at": f"{time.time():.3f}",
         "delivered": int(done.delivered), "attempts": done.attempts,
         "status": done.status or "", "error": done.error or ""},
        maxlen=DELIVERIES_KEPT,
        approximate=True,
    )  # fmt: skip


async def recent(redis: Redis, count: int = 50) -> list[dict[str, str]]:
    """The newest deliveries first."""
    entries = cast(
        list[tuple[bytes, dict[bytes, bytes]]],
        await redis.xrevrange(keys.ALERT_DELIVERIES, count=count),
    )
    return [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
