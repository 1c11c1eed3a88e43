"""Reports as Markdown, for a write-up or a wiki. Post-derived text is escaped: a handle or a
link cannot open a table cell, a link or an HTML tag of its own."""

import re

from monitor.reports import coordination_tables, shown
from monitor.reports.model import ListSummary, TagReport
from monitor.reports.render_text import sparkline
from monitor.terminal import clean

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


def escape(text: str | None) -> str:
    """Text that shows as itself in Markdown (GitHub and CommonMark), on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(clean(text or "").split()))


def _link(url: str | None, label: str) -> str:
    """A link only to http(s) addresses; anything else is shown as text."""
    if url and url.startswith(("https://", "http://")) and not re.search(r"[\s<>()]", url):
        return f"[{escape(label)}](<{url}>)"
    return escape(label)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def tag_report(report: TagReport) -> str:
    p = report.posts
    lines = [
        f"# {escape(report.display)}",
        "",
        f"{report.from_} to {report.to} (UTC), by {report.bucket}. Parameters: since "
        f"{escape(report.parameters.since or 'all retained')}, until "
        f"{escape(report.parameters.until or 'the newest post')}, top {report.parameters.top}.",
        "",
        f"**{p.total:,} posts by {report.people:,} people** "
        f"({report.posts_per_person} posts per person).",
        "",
        *_table(["original", "repost", "quote", "reply"],
                [[f"{p.original:,}", f"{p.repost:,}", f"{p.quote:,}", f"{p.reply:,}"]]),
        *_table(["platform", "posts"],
                [[escape(name), f"{n:,}"] for name, n in report.platforms.items()]),
        f"Volume per {report.bucket}: `{sparkline([v.posts for v in report.volume][-120:])}`",
        "",
    ]  # fmt: skip
    if minute := report.busiest_minute:
        lines += [f"Busiest minute: {minute.start}, {minute.posts:,} posts.", ""]
    lines += ["## Top accounts", ""]
    lines += _table(["account", "platform", "posts"], [
        [escape(shown.author(a.handle, a.name) or a.id), escape(a.platform), f"{a.posts:,}"]
        for a in report.top_accounts
    ])  # fmt: skip
    lines += ["## Top posts", ""]
    lines += _table(["post", "said", "by", "time", "people talking", "reposts", "quotes",
                     "replies"], [
        [_link(t.url, t.url or f"{t.platform}:{t.id}"), escape(shown.shortened(t.text)),
         escape(shown.author(t.handle, t.name)), escape(t.time or ""), f"{t.people_talking:,}",
         f"{t.reposts:,}", f"{t.quotes:,}", f"{t.replies:,}"]
        for t in report.top_posts
    ])  # fmt: skip
    lines += ["## Co-hashtags", ""]
    lines += _table(["hashtag", "posts"],
                    [[escape(f"#{c.tag}"), f"{c.posts:,}"] for c in report.cohashtags])  # fmt: skip
    if report.coordination:
        lines += [
            "## Coordination",
            "",
            escape(coordination_tables.summary(report.coordination)),
            "",
        ]
        for table in coordination_tables.tables(report.coordination):
            lines += [f"### {table.title}", ""]
            lines += _table(table.header, [[escape(cell) for cell in row] for row in table.rows])
    lines += [f"*{escape(report.generated_by)}*", ""]
    return "\n".join(lines)


def list_summary(summary: ListSummary) -> str:
    lines = [f"# Watchlist {escape(summary.watchlist)}", "",
             f"{summary.from_} to {summary.to} (UTC), against the window of the same length "
             "before.", ""]  # fmt: skip
    lines += _table(["tag", "posts", "people", "posts/person", "change", "busiest minute (UTC)"], [
        [escape(r.display), f"{r.posts:,}", f"{r.people:,}", f"{r.posts_per_person}",
         "n/a" if r.change is None else f"{r.change:+.0%}",
         f"{r.busiest_minute.start} ({r.busiest_minute.posts:,})" if r.busiest_minute else ""]
        for r in summary.rows
    ])  # fmt: skip
    return "\n".join([*lines, f"*{escape(summary.generated_by)}*", ""])
