"""hashmon watch: named watchlists (an investigation each)."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.common import fail, load_settings, one_line_errors, run

if TYPE_CHECKING:
    from redis.asyncio import Redis

app = typer.Typer(help="Add, remove and list watched hashtags.", no_args_is_help=True)

ListOption = Annotated[str, typer.Option("--list", "-l", help="Watchlist name.")]
DEFAULT_LIST = "default"  # monitor.watchlist.DEFAULT; that module loads the Redis client


class Output(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Output, typer.Option("--format", "-f", help="Output format.")]


@app.command()
def add(
    tags: Annotated[list[str], typer.Argument(help="Tags, with or without '#'.")],
    name: ListOption = DEFAULT_LIST,
) -> None:
    """Watch tags; a running daemon picks them up without a restart."""
    from monitor import watchlist

    with one_line_errors():
        name, parsed = watchlist.parse_name(name), watchlist.parse_tags(tags)
    added = run(load_settings(), lambda redis: watchlist.add(redis, name, parsed))
    typer.echo(f"{name}: {added} added, {len(parsed) - added} already watched")


@app.command()
def remove(
    tags: Annotated[list[str], typer.Argument(help="Tags, with or without '#'.")],
    name: ListOption = DEFAULT_LIST,
) -> None:
    """Stop watching tags on a list (their data stays until retention drops it)."""
    from monitor import watchlist

    with one_line_errors():
        name, parsed = watchlist.parse_name(name), watchlist.parse_tags(tags)
    removed = run(load_settings(), lambda redis: watchlist.remove(redis, name, parsed))
    typer.echo(f"{name}: {removed} removed, {len(parsed) - removed} were not on it")


@app.command("list")
def list_tags(name: ListOption = DEFAULT_LIST, fmt: FormatOption = Output.text) -> None:
    """The tags on one list, in the spelling most used in their posts."""
    from monitor import watchlist
    from monitor.cli import listing
    from monitor.spelling import display
    from monitor.words import plural

    with one_line_errors():
        watchlist.parse_name(name)

    async def shown(redis: Redis) -> tuple[dict[str, str], list[str]]:
        tags = {tag: await display(redis, tag) for tag in await watchlist.tags(redis, name)}
        return tags, await watchlist.names(redis)

    tags, names = run(load_settings(), shown)
    option = "" if name == DEFAULT_LIST else f" --list {name}"
    others = f" (the lists: {', '.join(names)})" if names else ""
    listing.show(
        fmt is Output.json,
        {"list": name, "tags": list(tags)},
        ["tag"],
        [[tag] for tag in tags.values()],
        empty=f"no tags on watchlist {name!r} yet: add one with hashmon watch add TAG{option}"
        f"{others}",
        title=f"watchlist {name}: {plural(len(tags), 'tag')}",
    )


@app.command()
def lists(fmt: FormatOption = Output.text) -> None:
    """Every watchlist and how many tags it has."""
    from monitor import watchlist
    from monitor.cli import listing
    from monitor.words import plural

    async def sizes(redis: Redis) -> dict[str, int]:
        return {n: len(await watchlist.tags(redis, n)) for n in await watchlist.names(redis)}

    found = run(load_settings(), sizes)
    listing.show(
        fmt is Output.json,
        found,
        ["list", "tags"],
        [[n, f"{size:,}"] for n, size in found.items()],
        empty="no watchlists yet: add one with hashmon watch add TAG [--list NAME], or "
        "hashmon watch load seeds/watchlists.toml",
        title=plural(len(found), "watchlist"),
    )


@app.command()
def load(path: Annotated[Path, typer.Argument(help="A watchlists TOML file.")]) -> None:
    """Add the lists of a TOML file ([lists.NAME] tags = [...]), e.g. seeds/watchlists.toml."""
    from monitor.words import plural

    with one_line_errors():
        wanted = read_file(path)
    run(load_settings(), lambda redis: load_lists(redis, wanted))
    tags = plural(sum(map(len, wanted.values())), "tag")
    typer.echo(f"{path}: {tags} on {plural(len(wanted), 'list')}")


def read_file(path: Path) -> dict[str, list[str]]:
    """Validate a whole watchlists file before anything is written."""
    from monitor import watchlist

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path}: no such file")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        fail(f"{path}: not a readable TOML file ({exc})")
    lists_table = data.get("lists")
    if not isinstance(lists_table, dict) or not lists_table:
        fail(f"{path}: no [lists.NAME] tables")
    wanted: dict[str, list[str]] = {}
    for name, table in lists_table.items():
        tags = table.get("tags") if isinstance(table, dict) else None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            fail(f"{path}: lists.{name}.tags must be a list of strings")
        wanted[watchlist.parse_name(name)] = watchlist.parse_tags(tags)
    return wanted


async def load_lists(redis: Redis, wanted: dict[str, list[str]]) -> None:
    from monitor import watchlist

    for name, tags in wanted.items():
        if tags:
            await watchlist.add(redis, name, tags)
