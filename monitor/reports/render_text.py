"""Reports for a terminal: rich tables and a volume sparkline. Post-derived text is escaped.
How a table fits the terminal, or becomes plain lines in a pipe, is monitor.cli.consoles.show's."""

from rich import box
from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from monitor.reports import coordination_tables, shown
from monitor.reports.model import ListSummary, TagReport
from monitor.terminal import clean

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """One block character per value, scaled so the largest value is a full block."""
    peak = max(values, default=0) or 1
    return "".join(_BARS[round(v / peak * (len(_BARS) - 1))] for v in values)


def _safe(text: str | None) -> str:
    return escape(clean(text or ""))


def tag_report(report: TagReport) -> RenderableType:
    head = Text.assemble(
        (clean(report.display), "bold"), f"  {report.from_} → {report.to}  ({report.bucket}s)\n",
        f"{report.posts.total:,} posts by {report.people:,} people "
        f"({report.posts_per_person} posts per person)",
    )  # fmt: skip
    kinds = Table("original", "repost", "quote", "reply", "platforms", box=box.SIMPLE)
    kinds.add_row(
        *(f"{getattr(report.posts, k):,}" for k in ("original", "repost", "quote", "reply")),
        ", ".join(f"{_safe(p)} {n:,}" for p, n in report.platforms.items()),
    )
    accounts = Table("account", "platform", "posts", title="Top accounts", box=box.SIMPLE)
    for a in report.top_accounts:
        who = shown.author(a.handle, a.name) or a.id
        accounts.add_row(_safe(who), a.platform, f"{a.posts:,}")
    posts = Table("people talking", "reposts", "quotes", "replies", "said", "by", "time", "post",
                  title="Top posts", box=box.SIMPLE)  # fmt: skip
    for p in report.top_posts:
        counts = (p.people_talking, p.reposts, p.quotes, p.replies)
        posts.add_row(*(f"{n:,}" for n in counts), _safe(shown.shortened(p.text)),
                      _safe(shown.author(p.handle, p.name)), p.time or "",
                      _safe(p.url or f"{p.platform}:{p.id}"))  # fmt: skip
    cotags = Table("co-hashtag", "posts", title="Co-hashtags", box=box.SIMPLE)
    for c in report.cohashtags:
        cotags.add_row(_safe(f"#{c.tag}"), f"{c.posts:,}")
    footer = Text(report.generated_by, style="dim")
    return Group(
        head, kinds, _volume(report), accounts, posts, cotags, *_coordination(report), footer
    )


def _coordination(report: TagReport) -> list[RenderableType]:
    if report.coordination is None:
        return []
    parts: list[RenderableType] = [Text(coordination_tables.summary(report.coordination))]
    for found in coordination_tables.tables(report.coordination):
        table = Table(title=found.title, box=box.SIMPLE)
        for column in found.header:
            table.add_column(column)
        for row in found.rows:
            table.add_row(*(_safe(cell) for cell in row))
        parts.append(table)
    return parts


def _minute(iso_time: str) -> str:
    """'2019-11-28T09:52:00Z' -> '2019-11-28 09:52', short enough for a table cell."""
    return iso_time.replace("T", " ")[:16]


def _volume(report: TagReport) -> RenderableType:
    values = [point.posts for point in report.volume]
    line = Text(f"volume per {report.bucket}: ")
    line.append(sparkline(values[-120:]), style="cyan")
    if minute := report.busiest_minute:
        line.append(f"\nbusiest minute {_minute(minute.start)} UTC: {minute.posts:,} posts")
    return line


def list_summary(summary: ListSummary) -> RenderableType:
    table = Table(
        "tag", "posts", "people", "posts/person", "change", "busiest minute (UTC)",
        title=f"Watchlist {summary.watchlist}: {summary.from_} → {summary.to}", box=box.SIMPLE,
    )  # fmt: skip
    for row in summary.rows:
        change = "n/a" if row.change is None else f"{row.change:+.0%}"
        minute = row.busiest_minute
        busiest = f"{_minute(minute.start)} ({minute.posts:,})" if minute else ""
        table.add_row(_safe(row.display), f"{row.posts:,}", f"{row.people:,}",
                      f"{row.posts_per_person}", change, busiest)  # fmt: skip
    return Group(table, Text(summary.generated_by, style="dim"))
