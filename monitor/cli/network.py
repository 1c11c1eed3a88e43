"""hashmon network and hashmon evidence: coordination networks, and the posts behind an edge."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import orjson
import typer

from monitor.cli import consoles, writing
from monitor.cli.common import checked_tag, fail, load_settings, run
from monitor.cli.consoles import show

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from rich.table import Table

    from monitor.accounts import Account
    from monitor.settings import Settings
    from monitor.signals import evidence
    from monitor.signals.coordination import Query
    from monitor.signals.records import Record
    from monitor.timewindow import Window


class Behaviour(StrEnum):
    co_post = "co-post"
    co_repost = "co-repost"
    co_link = "co-link"
    co_reply = "co-reply"
    co_similar = "co-similar"


class TextRule(StrEnum):
    extended = "extended"
    toolkit = "toolkit"


class NetworkFormat(StrEnum):
    csv = "csv"
    json = "json"
    gexf = "gexf"
    graphml = "graphml"


Window_ = Annotated[int, typer.Option("--window", help="Seconds between matching posts (W).")]
Rule_ = Annotated[TextRule, typer.Option("--text-rule", help="Content key rule.")]
Threshold_ = Annotated[float, typer.Option(help="Lowest Jaccard similarity, for co-similar.")]
Since_ = Annotated[str | None, typer.Option(help="Duration before the newest post, or ISO time.")]
Until_ = Annotated[str | None, typer.Option(help="Duration or ISO time.")]
ACCOUNT_HELP = (
    "An account id, as in the network's edges, or a handle: @name, name@instance, "
    "name.bsky.social (any case; a leading @ is optional)."
)


def _query(
    config: Settings, behaviour: str, window: int, weight: int, rule: str, tau: float
) -> Query:
    from fractions import Fraction

    from monitor.signals import coordination

    query = coordination.Query(behaviour, window, weight, rule, Fraction(str(tau)))  # type: ignore[arg-type]
    try:
        query.check(config.coordination_max_window_s, config.coordination_min_similarity)
    except coordination.InvalidQuery as exc:
        fail(str(exc))
    return query


async def _window(redis: Redis, tag: str, since: str | None, until: str | None) -> Window:
    from monitor.reports.build import NoData, span
    from monitor.timewindow import resolve

    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    return resolve(since, until, *limits)


def network(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    behaviour: Annotated[Behaviour, typer.Option("--behaviour", "-b")],
    window_s: Window_ = 60,
    min_weight: Annotated[int, typer.Option(help="Edges with a lower weight are left out.")] = 2,
    rule: Rule_ = TextRule.extended,
    threshold: Threshold_ = 0.8,
    since: Since_ = None,
    until: Until_ = None,
    fmt: Annotated[NetworkFormat, typer.Option("--format", "-f")] = NetworkFormat.csv,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File, device or FIFO; - is stdout (default)."),
    ] = None,
) -> None:
    """A tag's coordination network: directed weighted edges between accounts (see the docs)."""
    from monitor.reports import network_files
    from monitor.signals import coordination

    config = load_settings()
    parsed = checked_tag(tag, since, until)
    query = _query(config, behaviour.value, window_s, min_weight, rule.value, threshold)

    async def work(redis: Redis) -> str:
        window = await _window(redis, parsed, since, until)
        found = await coordination.network(redis, parsed, query, window)
        if found.unpaired:
            consoles.err.print(
                f"warning: {found.unpaired:,} posts matched more than "
                f"{config.coordination_max_matches:,} others on one key (viral content) and are "
                "not paired; their edges are missing (HASHMON_COORDINATION_MAX_MATCHES)",
                markup=False, highlight=False,
            )  # fmt: skip
        if fmt is NetworkFormat.json:
            return network_files.as_json(parsed, found, window)
        if fmt is NetworkFormat.gexf:
            return network_files.as_gexf(found)
        if fmt is NetworkFormat.graphml:
            return network_files.as_graphml(found)
        return network_files.as_csv(found)

    writing.write_text(output, run(config, work))


def evidence_cmd(
    tag: Annotated[str, typer.Argument(help="The tag, with or without '#'.")],
    account_a: Annotated[str, typer.Argument(help=ACCOUNT_HELP)],
    account_b: Annotated[str, typer.Argument(help="The other account: an id or a handle.")],
    behaviour: Annotated[
        Behaviour | None, typer.Option("--behaviour", "-b", help="Default: every behaviour.")
    ] = None,
    window_s: Window_ = 60,
    rule: Rule_ = TextRule.extended,
    threshold: Threshold_ = 0.8,
    since: Since_ = None,
    until: Until_ = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
) -> None:
    """The matching post pairs of two accounts: handles, times, the gap, and what they share."""
    from monitor.reports import network_files
    from monitor.signals import evidence
    from monitor.signals.coordination import BEHAVIOURS

    config = load_settings()
    parsed = checked_tag(tag, since, until)
    chosen = [behaviour.value] if behaviour else list(BEHAVIOURS)
    queries = [_query(config, b, window_s, 1, rule.value, threshold) for b in chosen]

    async def work(redis: Redis) -> tuple[list[tuple[Query, list[evidence.Evidence]]], str]:
        from monitor import accounts

        window = await _window(redis, parsed, since, until)
        a, b = await accounts.resolve(redis, parsed, account_a, account_b)
        found = [(q, await evidence.between(redis, parsed, q, window, a.id, b.id))
                 for q in queries]  # fmt: skip
        if any(pairs for _, pairs in found):
            return found, ""
        why = await _why_none(redis, parsed, window, a, b, window_s)
        return found, f"no matching posts between {a} and {b} on #{parsed}: {why}"

    found, nothing = run(config, work)
    if as_json:
        rows = [network_files.evidence_row(q, e) for q, pairs in found for e in pairs]
        sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        for q, pairs in found:
            if pairs:
                show(_table(q, pairs))
    if nothing:
        fail(nothing, code=1)


async def _why_none(
    redis: Redis, tag: str, window: Window, a: Account, b: Account, window_s: int
) -> str:
    from monitor.signals import people

    posted = {r.author_id for r in await people.in_window(redis, tag, window)}
    absent = [f"{x} did not post in the window" for x in (a, b) if x.id not in posted]
    return "; ".join(absent) or f"both posted, never within {window_s} s in the same way"


def _table(query: Query, pairs: list[evidence.Evidence]) -> Table:
    from rich.table import Table
    from rich.text import Text

    from monitor import terminal
    from monitor.reports import shown
    from monitor.timewindow import iso

    table = Table(title=f"{query.behaviour}: {len(pairs)} matching pairs", title_justify="left")
    for column in ("first post", "time", "second post", "time", "Δt (s)", "shared",
                   "first said", "second said"):  # fmt: skip
        table.add_column(column)
    for e in pairs:
        shared = e.shared if e.texts is None else f"{e.shared}\n{e.texts[0]}\n{e.texts[1]}"
        table.add_row(
            Text(terminal.clean(_by(e.first))), iso(e.first.t_ms),
            Text(terminal.clean(_by(e.second))), iso(e.second.t_ms),
            f"{e.dt_ms / 1000:g}", Text(terminal.clean(shared)),
            *(Text(terminal.clean(shown.shortened(text))) for text in e.said),
        )  # fmt: skip
    return table


def _by(post: Record) -> str:
    """Who posted (the handle the post carried, and the account id), then where the post is."""
    who = f"@{post.handle.removeprefix('@')} ({post.author_id})" if post.handle else post.author_id
    return f"{who}\n{post.url or post.key}"
