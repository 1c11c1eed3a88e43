"""Scheduled watchlist summaries, written to a folder so that a user reads yesterday's campaign
activity without running a command.

A digest is due once per period (``every``, counted in whole periods since the epoch, so every
process agrees on them); the one process that claims a period in Redis writes its report, named
by list and period start: ``iraq-2019-20261125T0000Z.html``, or POSTs it to a webhook (the
delivery, retried like alerts', is recorded with them).
"""

import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Literal, cast
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.asyncio import Redis

from monitor import alert_delivery, atomic, keys, watchlist, webhooks
from monitor.reports import render_html, render_md, summary
from monitor.reports.model import ListSummary
from monitor.timewindow import parse_duration

Format = Literal["md", "html", "json"]
MIN_EVERY_S = 60.0


class InvalidDigest(ValueError):
    """A digest that cannot be scheduled; the message names the problem."""


class Digest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    watchlist: str
    every_s: float = Field(ge=1)
    format: Format
    folder: str = ""
    webhook: str | None = None  # instead of the folder

    @property
    def id(self) -> str:
        return f"{self.watchlist}.{self.format}" + ("@webhook" if self.webhook else "")

    @property
    def target(self) -> str:
        return self.webhook or self.folder


def make(name: str, every: str, fmt: str, folder: str) -> Digest:
    """A checked digest; raises InvalidDigest (or InvalidListName) naming the first problem."""
    watchlist.parse_name(name)
    period = parse_duration(every)
    if period is None or period.total_seconds() < MIN_EVERY_S:
        raise InvalidDigest(f"invalid --every {every[:20]!r}: a duration of at least 1m, e.g. 24h")
    if fmt not in ("md", "html", "json"):
        raise InvalidDigest(f"invalid --format {fmt[:20]!r}: md, html or json")
    if folder.startswith(("http://", "https://")):
        if not urlsplit(folder).hostname:
            raise InvalidDigest(f"--to {folder[:80]!r}: a webhook URL needs a host")
        return Digest(watchlist=name, every_s=period.total_seconds(),
                      format=cast(Format, fmt), webhook=folder)  # fmt: skip
    target = Path(folder).expanduser().resolve()
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        why = "" if existing == target else f"cannot be made, as {str(existing)[:80]!r} is "
        raise InvalidDigest(f"--to {folder[:80]!r}: {why}not a folder this user can write to")
    return Digest(watchlist=name, every_s=period.total_seconds(),
                  format=cast(Format, fmt), folder=str(target))  # fmt: skip


async def add(redis: Redis, digest: Digest) -> None:
    """Keep the digest once its watchlist is known to exist, making its folder if need be."""
    await watchlist.require(redis, digest.watchlist)
    if digest.folder:
        try:
            await asyncio.to_thread(Path(digest.folder).mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidDigest(f"--to {digest.folder[:80]!r}: {exc.strerror or exc}") from None
    await redis.hset(keys.DIGESTS, digest.id, digest.model_dump_json())


async def remove(redis: Redis, digest_id: str) -> bool:
    return bool(await redis.hdel(keys.DIGESTS, digest_id))


async def all_digests(redis: Redis) -> list[Digest]:
    """Every digest; a stored entry this version cannot read is skipped, not fatal."""
    stored = cast(dict[bytes, bytes], await redis.hgetall(keys.DIGESTS))
    found = []
    for raw in stored.values():
        with contextlib.suppress(ValidationError):
            found.append(Digest.model_validate_json(raw))
    return sorted(found, key=lambda d: d.id)


async def write_due(
    redis: Redis,
    digest: Digest,
    now: float | None = None,
    session: aiohttp.ClientSession | None = None,
) -> str | None:
    """Write (or POST) the digest of the period that has just begun, once across all processes;
    the file or webhook it went to, or None when it was not due or had nothing to say."""
    now = time.time() if now is None else now
    period = int(now // digest.every_s)
    claim = keys.digest_claim(digest.id, period)
    if not await redis.set(claim, "1", nx=True, ex=max(60, int(digest.every_s * 2))):
        return None  # written already, here or by another process
    every = f"{int(digest.every_s)}s"
    try:
        found = await summary.list_summary(redis, digest.watchlist, every)
    except summary.EmptyList:
        return None  # nothing to report this period
    body = _render(found, digest.format)
    if digest.webhook:
        return await _post(redis, digest, body, session)
    stamp = time.strftime("%Y%m%dT%H%MZ", time.gmtime(period * digest.every_s))
    target = Path(digest.folder) / f"{digest.watchlist}-{stamp}.{digest.format}"
    try:
        await asyncio.to_thread(_write, target, body)
    except OSError:
        await redis.delete(claim)  # the period is still owed: the next check tries again
        raise
    return str(target)


_CONTENT = {"json": "application/json", "md": "text/markdown", "html": "text/html"}


async def _post(
    redis: Redis, digest: Digest, body: str, session: aiohttp.ClientSession | None
) -> str | None:
    """POST the digest; the outcome is recorded beside the alerts' deliveries."""
    assert digest.webhook is not None and session is not None
    sent = await webhooks.post(session, digest.webhook, body.encode(), _CONTENT[digest.format])
    await alert_delivery.record(redis, alert_delivery.Delivery(
        f"digest:{digest.id}", digest.watchlist, sent.delivered, sent.attempts, sent.status,
        sent.error,
    ))  # fmt: skip
    return digest.webhook if sent.delivered else None


def _write(target: Path, body: str) -> None:
    """Through a temporary name, so that a reader never sees half a file."""
    with atomic.replacing(target) as partial:
        partial.write_text(body, encoding="utf-8")


def _render(found: ListSummary, fmt: Format) -> str:
    if fmt == "json":
        return found.model_dump_json(by_alias=True, indent=2) + "\n"
    return render_html.list_summary(found) if fmt == "html" else render_md.list_summary(found)
