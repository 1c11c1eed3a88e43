"""A tag's posts as a table for pandas, R or a spreadsheet: one row per post in the window, from
the compact records a tag keeps (no post text: tags keep what figures need, not the posts).

CSV cells that a spreadsheet would run as a formula (starting with = + - @ or a tab or CR) are
prefixed with an apostrophe, as OWASP advises; post-derived text is hostile.
"""

import csv
from collections.abc import Iterator
from typing import IO

import orjson
from redis.asyncio import Redis

from monitor.reports.build import NoData, span
from monitor.signals import people
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


def rows(records: list[Record]) -> Iterator[dict[str, object]]:
    for r in records:
        platform, _, post_id = r.key.partition(":")
        yield {"platform": platform, "id": post_id, "url": r.url, "created_at": iso(r.t_ms),
               "kind": r.kind, "author_id": r.author_id, "handle": r.handle,
               "referenced_id": r.ref_id, "referenced_author_id": r.ref_author_id,
               "referenced_url": r.ref_url, "tags": list(r.tags)}  # fmt: skip


def write_csv(records: list[Record], out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows(records):
        writer.writerow([cell(row[column]) for column in COLUMNS])


def write_jsonl(records: list[Record], out: IO[str]) -> None:
    for row in rows(records):
        out.write(orjson.dumps(row).decode() + "\n")


def cell(value: object) -> str:
    text = " ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA) else text
