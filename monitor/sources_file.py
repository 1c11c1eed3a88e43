"""A TOML file of sources (seeds/sources.toml), checked whole before anything is stored.

One table per source, named by its key: ``[sources.NAME]`` with ``kind`` (a platform), and
optionally ``url`` and ``rate`` ("REQUESTS/SECONDS"). Credentials are never in the file: a
source that needs one is added with ``hashmon sources add``. Loading is idempotent: a source
whose name is already stored is kept as it is (with its cursors and any edit made since), so
loading the same file at every start adds nothing twice.
"""

import tomllib
from pathlib import Path

from redis.asyncio import Redis

from monitor import keys, sources
from monitor.sources import InvalidSource, Source

FIELDS = ("kind", "url", "rate")


def read(path: Path) -> list[Source]:
    """Every source of the file, checked; InvalidSource names the file and the first problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidSource(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidSource(f"{path}: invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidSource(f"{path}: not a readable text file ({exc})") from None
    tables = data.get("sources")
    if not isinstance(tables, dict) or not tables:
        raise InvalidSource(f"{path}: no [sources.NAME] tables")
    return [_source(path, name, table) for name, table in tables.items()]


def _source(path: Path, name: str, table: object) -> Source:
    where = f"{path}: sources.{name[:64]}"
    if not isinstance(table, dict):
        raise InvalidSource(f"{where}: a table is expected ([sources.{name[:64]}])")
    if unknown := sorted(set(table) - set(FIELDS)):
        raise InvalidSource(f"{where}: unknown field {unknown[0][:40]!r}; expected kind, url, rate")
    values = {field: table.get(field) for field in FIELDS}
    for field, value in values.items():
        if value is not None and not isinstance(value, str):
            raise InvalidSource(f"{where}.{field}: a string is expected")
    kind, url, rate = values["kind"], values["url"], values["rate"]
    if kind is None:
        raise InvalidSource(f"{where}: no kind; one of {', '.join(sources.PLATFORMS)}")
    if kind not in sources.PLATFORMS:
        raise InvalidSource(
            f"{where}: unknown kind {kind[:40]!r}; expected {', '.join(sources.PLATFORMS)}"
        )
    platform = next(p for p in sources.PLATFORMS if p == kind)
    if sources.KINDS[platform].credentials:
        raise InvalidSource(
            f"{where}: {kind} needs credentials; add it with hashmon sources add instead"
        )
    if url is None and sources.KINDS[platform].url is None:
        raise InvalidSource(f'{where}: {kind} needs url = "https://..."')
    try:
        return sources.make(kind, url, name=name, rate=rate)
    except InvalidSource as exc:
        raise InvalidSource(f"{where}: {exc}") from None


async def load(redis: Redis, found: list[Source]) -> list[str]:
    """Store the sources not stored yet, all in one transaction; returns the names added."""
    async with redis.pipeline(transaction=True) as pipe:
        for source in found:
            pipe.hsetnx(keys.SOURCES, source.name, source.model_dump_json())
        added = await pipe.execute()
    return [source.name for source, new in zip(found, added, strict=True) if new]
