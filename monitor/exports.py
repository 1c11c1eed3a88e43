"""A tag's posts as a table for pandas, R or a spreadsheet: one row per post in the window, from
the record the tag keeps and the words the post store keeps; and its volume series, one row per
bucket (as in reports, empty buckets included). JSON Lines are hashmon's own post format, so an
export imports as the very posts it holds.

In CSV, cells that a spreadsheet would run as a formula (starting with = + - @ or a tab or CR)
are prefixed with an apostrophe, as OWASP advises, and terminal control and bidi characters are
dropped; post-derived text is hostile. Ids stay as the platform gives them in every format.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.parquet as pq
from redis.asyncio import Redis

from monitor import poststore
from monitor.models import KINDS, Post
from monitor.poststore import Body
from monitor.reports import model
from monitor.reports.build import NoData, auto_bucket, span, volume_series
from monitor.signals import people, volume
from monitor.signals.records import Record
from monitor.terminal import clean
from monitor.timewindow import iso, resolve

COLUMNS = ("platform", "id", "url", "created_at", "kind", "author_id", "handle", "name",
           "referenced_id", "referenced_author_id", "referenced_url", "tags", "language", "links",
           "text")  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Exported:
    """A post as the tag counts it, with its words (None: not stored) and, where the post store
    has it, the body of the post it refers to."""

    record: Record
    body: Body | None
    referred: Body | None


async def posts(
    redis: Redis, tag: str, since: str | None, until: str | None, referred: bool = False
) -> list[Exported]:
    """The tag's posts in the window (default: everything retained), oldest first; with
    ``referred``, the bodies of the posts they refer to too (JSON Lines gives their text)."""
    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    records = await people.in_window(redis, tag, resolve(since, until, *limits))
    refs = [r.ref_key for r in records if r.ref_key] if referred else []
    bodies = await poststore.read(redis, [*(r.key for r in records), *refs])
    return [Exported(r, bodies.get(r.key), bodies.get(r.ref_key or "")) for r in records]


def rows(found: Iterable[Exported]) -> Iterator[dict[str, object]]:
    for post in found:
        r, body = post.record, post.body
        platform, _, post_id = r.key.partition(":")
        yield {"platform": platform, "id": post_id, "url": r.url, "created_at": iso(r.t_ms),
               "kind": r.kind, "author_id": r.author_id, "handle": r.handle,
               "name": body and body.name, "referenced_id": r.ref_id,
               "referenced_author_id": r.ref_author_id, "referenced_url": r.ref_url,
               "tags": list(r.tags), "language": body and body.lang,
               "links": list(body.links) if body else [], "text": body and body.text}  # fmt: skip


def write_csv(found: Iterable[Exported], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(found):
        writer.writerow([cell(row[column]) for column in COLUMNS])


def write_jsonl(found: Iterable[Exported], out: IO[str]) -> None:
    """One canonical post a line (monitor.models.Post), as `hashmon import` reads them."""
    for post in found:
        out.write(as_post(post).model_dump_json() + "\n")


def as_post(found: Exported) -> Post:
    """The post back from its record and body; without a body, its text is empty and its tags
    are the normal forms the tag counted."""
    r, body = found.record, found.body or Body("", None, None, (), hashtags=found.record.tags)
    platform, _, post_id = r.key.partition(":")
    created = r.author_created_ms
    return Post(
        platform=platform, id=post_id, url=r.url, author_id=r.author_id,
        author_handle=r.handle, author_name=body.name,
        author_created_at=None if created is None else datetime.fromtimestamp(created / 1000, UTC),
        author_followers=body.followers, created_at=datetime.fromtimestamp(r.t_ms / 1000, UTC),
        text=body.text, hashtags=list(body.hashtags or r.tags), kind=r.kind,
        referenced_id=r.ref_id, referenced_author_id=r.ref_author_id, referenced_url=r.ref_url,
        referenced_text=found.referred and found.referred.text,
        referenced_author_name=found.referred and found.referred.name,
        links=list(body.links), short_links=body.short_links,
        mentions=list(body.mentions), media=list(body.media), lang=body.lang,
    )  # fmt: skip


PARQUET_SCHEMA = pa.schema(
    [(c, pa.string()) for c in COLUMNS if c not in ("created_at", "tags", "links")]
    + [
        ("created_at", pa.timestamp("ms", tz="UTC")),
        ("tags", pa.list_(pa.string())),
        ("links", pa.list_(pa.string())),
    ]
)


def write_parquet(found: Iterable[Exported], where: Path | IO[bytes]) -> None:
    """Typed columns: times as UTC timestamps, tags and links as lists (no formula risk: not a
    sheet; text as posted)."""
    table: dict[str, list[object]] = {name: [] for name in PARQUET_SCHEMA.names}
    for row in rows(found):
        for name in PARQUET_SCHEMA.names:
            table[name].append(row[name])
    table["created_at"] = [datetime.fromisoformat(str(t)) for t in table["created_at"]]
    pq.write_table(pa.table(table, schema=PARQUET_SCHEMA), where)


async def volume_rows(
    redis: Redis, tag: str, since: str | None, until: str | None
) -> list[model.VolumePoint]:
    """The report's volume series for the window: posts by kind and people per bucket."""
    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    window = resolve(since, until, *limits)
    minutes = await volume.minutes(redis, tag, window)
    records = await people.in_window(redis, tag, window)
    return volume_series(window, auto_bucket(window), minutes, records)


VOLUME_COLUMNS = ("start", "posts", *KINDS, "people")


def write_volume_csv(points: Iterable[model.VolumePoint], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(VOLUME_COLUMNS)
    for point in points:
        writer.writerow([getattr(point, column) for column in VOLUME_COLUMNS])


def cell(value: object) -> str:
    text = " ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    text = clean(text)
    return f"'{text}" if text.startswith(_FORMULA) else text
