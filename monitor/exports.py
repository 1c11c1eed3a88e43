"""A tag's posts as a table for pandas, R or a spreadsheet: one row per post in the window, from
the compact records a tag keeps (no post text: tags keep what figures need, not the posts); and
its volume series, one row per bucket (as in reports, empty buckets included).

CSV cells that a spreadsheet would run as a formula (starting with = + - @ or a tab or CR) are
prefixed with an apostrophe, as OWASP advises; post-derived text is hostile.
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from redis.asyncio import Redis

from monitor.models import KINDS
from monitor.reports import model
from monitor.reports.build import NoData, auto_bucket, span, volume_series
from monitor.signals import people, volume
from monitor.signals.records import Record
from monitor.timewindow import iso, resolve

COLUMNS = ("platform", "id", "url", "created_at", "kind", "author_id", "handle",
           "referenced_id", "referenced_author_id", "referenced_url", "tags")  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


async def posts(redis: Redis, tag: str, since: str | None, until: str | None) -> list[Record]:
    """The tag's records in the window (default: everything retained), oldest first."""
    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    return await people.in_window(redis, tag, resolve(since, until, *limits))


def rows(records: Iterable[Record]) -> Iterator[dict[str, object]]:
    for r in records:
        platform, _, post_id = r.key.partition(":")
        yield {"platform": platform, "id": post_id, "url": r.url, "created_at": iso(r.t_ms),
               "kind": r.kind, "author_id": r.author_id, "handle": r.handle,
               "referenced_id": r.ref_id, "referenced_author_id": r.ref_author_id,
               "referenced_url": r.ref_url, "tags": list(r.tags)}  # fmt: skip


def write_csv(records: Iterable[Record], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(records):
        writer.writerow([cell(row[column]) for column in COLUMNS])


def write_jsonl(records: Iterable[Record], out: IO[str]) -> None:
    for row in rows(records):
        out.write(orjson.dumps(row).decode() + "\n")


PARQUET_SCHEMA = pa.schema(
    [(c, pa.string()) for c in COLUMNS if c not in ("created_at", "tags")]
    + [("created_at", pa.timestamp("ms", tz="UTC")), ("tags", pa.list_(pa.string()))]
)


def write_parquet(records: Iterable[Record], where: Path | IO[bytes]) -> None:
    """Typed columns: times as UTC timestamps, tags as lists (no formula risk: not a sheet)."""
    table: dict[str, list[object]] = {name: [] for name in PARQUET_SCHEMA.names}
    for row in rows(records):
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
    return f"'{text}" if text.startswith(_FORMULA) else text
