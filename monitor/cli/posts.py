"""hashmon posts: the posts a report counts, newest first, with what they said."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer

from monitor.cli import consoles
from monitor.cli.common import checked_tag, fail, load_settings, run

if TYPE_CHECKING:
    from monitor.postlist import Page

KINDS = ("original", "repost", "quote", "reply")  # monitor.models.KINDS, for --help alone


class PostsFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"


def posts(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    words: Annotated[
        str | None, typer.Option("--text", help="Words the post says (any case or letter form).")
    ] = None,
    account: Annotated[str | None, typer.Option(help="An account id or @handle.")] = None,
    kind: Annotated[str | None, typer.Option(help=f"One of: {', '.join(KINDS)}.")] = None,
    platform: Annotated[str | None, typer.Option(help="x, mastodon, bluesky, reddit...")] = None,
    since: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    until: Annotated[str | None, typer.Option(help="Duration or ISO time.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="Posts per page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next page: a page's next_cursor.")] = None,
    fmt: Annotated[PostsFormat, typer.Option("--format", "-f")] = PostsFormat.text,
) -> None:
    """Posts of a tag in the window, newest first, filtered by words, account, kind, platform."""
    from monitor import postlist

    parsed = checked_tag(tag, since, until)
    if kind is not None and kind not in KINDS:
        fail(f"--kind {kind[:20]!r}: one of {', '.join(KINDS)}")
    if words is not None and not words.strip():
        fail("--text: give at least one word")
    chosen = cast(Literal["original", "repost", "quote", "reply"] | None, kind)
    filters = postlist.Filters(words, account, chosen, platform, since, until, limit, cursor)
    found = run(load_settings(), lambda redis: postlist.page(redis, parsed, filters))
    if fmt is PostsFormat.json:
        typer.echo(found.model_dump_json(indent=2))
    elif fmt is PostsFormat.csv:
        _csv(found)
    else:
        _table(found)


def _csv(found: Page) -> None:
    import csv
    import sys

    from monitor.exports import cell
    from monitor.postlist import Listed

    columns = list(Listed.model_fields)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for post in found.posts:
        writer.writerow([cell(getattr(post, column)) for column in columns])


def _table(found: Page) -> None:
    from rich.table import Table
    from rich.text import Text

    from monitor.reports import shown
    from monitor.terminal import clean

    if not found.posts:
        typer.echo(f"no posts of #{found.tag} match")
        return
    table = Table("time", "by", "kind", "said", "post", title=f"#{found.tag}: newest first")
    for post in found.posts:
        cells = (post.time, shown.author(post.handle, post.name) or post.author_id, post.kind,
                 shown.shortened(post.text), post.url or f"{post.platform}:{post.id}")  # fmt: skip
        table.add_row(*(Text(clean(cell)) for cell in cells))
    consoles.show(table)
    if found.next_cursor:
        consoles.err.print(f"more: --cursor {found.next_cursor}", markup=False)
