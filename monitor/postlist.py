"""A tag's posts as a reader pages through them: the posts a report counts, newest first,
filtered by words, account, kind, platform and window, with what each said.

Words match as the extended content rule compares texts (case folded, Arabic-script letter
forms unified, ZWNJ, tatweel and diacritics dropped, short links expanded), so that 'IRGC' finds
'irgc' and a Persian word finds its variants. A page ends with a cursor, the place of its last
post: the next page starts after it, so pages neither skip nor repeat a post while new ones
arrive (they come before the first page).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel
from redis.asyncio import Redis

from monitor import accounts, poststore
from monitor.models import Kind
from monitor.reports.build import NoData, span
from monitor.signals import people
from monitor.signals.contentkeys import extended_key
from monitor.signals.records import Record
from monitor.timewindow import iso, resolve

MAX_LIMIT = 500
_BATCH = 2_000  # bodies read per round trip while looking for words


class InvalidCursor(ValueError):
    """A cursor this tag's pages did not give."""


@dataclass(frozen=True)
class Filters:
    words: str | None = None
    account: str | None = None  # an id or a handle (monitor.accounts)
    kind: Kind | None = None
    platform: str | None = None
    since: str | None = None
    until: str | None = None
    limit: int = 50
    cursor: str | None = None


class Listed(BaseModel):
    id: str
    platform: str
    url: str | None
    time: str
    kind: Kind
    author_id: str
    handle: str | None
    name: str | None
    text: str | None  # None: not stored (posts aggregated before the post store)
    referenced_id: str | None
    tags: list[str]


class Page(BaseModel):
    tag: str
    posts: list[Listed]
    next_cursor: str | None  # pass it back for the next page; None: this was the last


async def page(redis: Redis, tag: str, filters: Filters) -> Page:
    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    window = resolve(filters.since, filters.until, *limits)
    who = (await accounts.resolve(redis, tag, filters.account))[0] if filters.account else None
    candidates = _after(_matching(await people.in_window(redis, tag, window), filters), filters)
    if who is not None:
        candidates = [r for r in candidates if (r.platform, r.author_id) == (who.platform, who.id)]
    found: list[tuple[Record, poststore.Body | None]] = []
    wanted = extended_key(filters.words, {}) if filters.words else None
    for start in range(0, len(candidates), _BATCH):
        chunk = candidates[start : start + _BATCH]
        bodies = await poststore.read(redis, [r.key for r in chunk])
        found += [(r, bodies.get(r.key)) for r in chunk if _says(bodies.get(r.key), wanted)]
        if len(found) > filters.limit:
            break
    shown = found[: filters.limit]
    more = len(found) > filters.limit
    last = shown[-1][0] if shown else None
    return Page(tag=tag, posts=[_listed(r, body) for r, body in shown],
                next_cursor=f"{last.t_ms}:{last.key}" if more and last else None)  # fmt: skip


def _matching(records: Sequence[Record], filters: Filters) -> list[Record]:
    """Newest first, of the kind and platform asked for."""
    return [
        r for r in sorted(records, key=lambda r: (r.t_ms, r.key), reverse=True)
        if (filters.kind is None or r.kind == filters.kind)
        and (filters.platform is None or r.platform == filters.platform)
    ]  # fmt: skip


def _after(records: list[Record], filters: Filters) -> list[Record]:
    if filters.cursor is None:
        return records
    t, _, key = filters.cursor.partition(":")
    if not t.isdigit() or not key:
        raise InvalidCursor(f"invalid cursor {filters.cursor[:40]!r}: pass next_cursor as given")
    place = (int(t), key)
    return [r for r in records if (r.t_ms, r.key) < place]


def _says(body: poststore.Body | None, wanted: str | None) -> bool:
    if wanted is None:
        return True
    return body is not None and wanted in extended_key(body.text, body.short_links)


def _listed(r: Record, body: poststore.Body | None) -> Listed:
    return Listed(
        id=r.key.partition(":")[2], platform=r.platform, url=r.url, time=iso(r.t_ms),
        kind=r.kind, author_id=r.author_id, handle=r.handle, name=body and body.name,
        text=body and body.text, referenced_id=r.ref_id, tags=list(r.tags),
    )  # fmt: skip
