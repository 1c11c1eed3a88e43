"""A report as one self-contained HTML file: inline CSS and SVG charts, no script, nothing
loaded from the network (a Content-Security-Policy says so to the browser), so it opens offline
and can be attached or archived as it is. Post-derived text is escaped; links are http(s) only.
"""

import bisect
import html

from monitor.reports import coordination_tables, shown
from monitor.reports.model import ListSummary, TagReport, VolumePoint
from monitor.terminal import clean

KINDS = ("original", "repost", "quote", "reply")
COLOURS = {"original": "#3b6ea8", "repost": "#e0913a", "quote": "#6aa84f", "reply": "#9e5fb0"}
BURST_COLOUR = "#f6d5d5"
_BURST_LEGEND = f'<span><i style="background:{BURST_COLOUR}"></i>burst</span>'
WIDTH, HEIGHT, PAD = 900, 200, 40
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}
.meta{color:#555}.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em}
svg text{font:11px system-ui,sans-serif;fill:#555}
"""


def esc(text: str | None) -> str:
    return html.escape(clean(text or ""), quote=True)


def _auto(text: str) -> str:
    """Text of any direction (Persian, Arabic, Latin) laid out by its own first letters."""
    return f'<span dir="auto">{esc(text)}</span>' if text else ""


def _link(url: str | None, label: str) -> str:
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{esc(url)}" rel="noopener noreferrer nofollow">{esc(label)}</a>'
    return esc(label)


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    """Cells are already escaped; columns from ``numeric_from`` on are right-aligned."""
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i >= numeric_from else ""}>{cell}</td>'
                         for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bursts(report: TagReport) -> list[tuple[str, str]]:
    return [(b.start, b.end) for b in report.coordination.bursts] if report.coordination else []


def _burst_marks(
    points: list[VolumePoint], bursts: list[tuple[str, str]], step: float
) -> list[str]:
    """A band behind the buckets each burst covers (ISO times of one form sort as text)."""
    starts = [p.start for p in points]
    marks = []
    for start, end in bursts:
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        last = max(bisect.bisect_right(starts, end) - 1, first)
        marks.append(
            f'<rect x="{PAD + first * step:.2f}" y="0" width="{(last - first + 1) * step:.2f}" '
            f'height="{HEIGHT}" fill="{BURST_COLOUR}" data-burst="{esc(start)}">'
            f"<title>burst {esc(start)} to {esc(end)}</title></rect>"
        )
    return marks


def volume_chart(points: list[VolumePoint], bursts: list[tuple[str, str]] | None = None) -> str:
    """Posts per bucket as bars stacked by kind, one rect per non-empty (bucket, kind), over
    bands marking the bursts."""
    peak = max((p.posts for p in points), default=0) or 1
    step = (WIDTH - PAD) / max(len(points), 1)
    bars = _burst_marks(points, bursts or [], step)
    for i, point in enumerate(points):
        top = HEIGHT
        for kind in KINDS:
            count = getattr(point, kind)
            if not count:
                continue
            height = count / peak * (HEIGHT - 20)
            top -= height
            bars.append(
                f'<rect x="{PAD + i * step:.2f}" y="{top:.2f}" width="{max(step - 1, 0.5):.2f}" '
                f'height="{height:.2f}" fill="{COLOURS[kind]}" data-kind="{kind}">'
                f"<title>{esc(point.start)}: {count:,} {kind}</title></rect>"
            )
    return _frame("Posts per bucket, by kind", "".join(bars), peak, points)


def people_chart(points: list[VolumePoint]) -> str:
    """Distinct people per bucket, as a line."""
    peak = max((p.people for p in points), default=0) or 1
    step = (WIDTH - PAD) / max(len(points), 1)
    path = " ".join(
        f"{PAD + (i + 0.5) * step:.2f},{HEIGHT - p.people / peak * (HEIGHT - 20):.2f}"
        for i, p in enumerate(points)
    )
    line = f'<polyline points="{path}" fill="none" stroke="#c0392b" stroke-width="1.5"/>'
    return _frame("People posting per bucket", line, peak, points)


def _frame(title: str, marks: str, peak: int, points: list[VolumePoint]) -> str:
    first, last = (points[0].start, points[-1].start) if points else ("", "")
    return (
        f'<svg role="img" aria-label="{esc(title)}" viewBox="0 0 {WIDTH} {HEIGHT + 20}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
        f'<line x1="{PAD}" y1="{HEIGHT}" x2="{WIDTH}" y2="{HEIGHT}" stroke="#999"/>'
        f'<text x="0" y="24">{peak:,}</text><text x="0" y="{HEIGHT}">0</text>{marks}'
        f'<text x="{PAD}" y="{HEIGHT + 15}">{esc(first)}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT + 15}" text-anchor="end">{esc(last)}</text></svg>'
    )


def _page(title: str, body: list[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def list_summary(summary: ListSummary) -> str:
    rows = [
        [esc(r.display), f"{r.posts:,}", f"{r.people:,}", f"{r.posts_per_person}",
         "n/a" if r.change is None else f"{r.change:+.0%}",
         esc(f"{r.busiest_minute.start} ({r.busiest_minute.posts:,})") if r.busiest_minute else ""]
        for r in summary.rows
    ]  # fmt: skip
    return _page(f"Watchlist {summary.watchlist}", [
        f"<h1>Watchlist {esc(summary.watchlist)}</h1>",
        f'<p class="meta">{esc(summary.from_)} to {esc(summary.to)} (UTC), against the window '
        "of the same length before.</p>",
        _table(["tag", "posts", "people", "posts/person", "change", "busiest minute (UTC)"], rows),
        f'<p class="meta">{esc(summary.generated_by)}</p>',
    ])  # fmt: skip


def tag_report(report: TagReport) -> str:
    p = report.posts
    legend = "".join(f'<span><i style="background:{COLOURS[k]}"></i>{k}</span>' for k in KINDS)
    params = report.parameters
    parts = [
        f"<h1>{esc(report.display)}</h1>",
        f'<p class="meta">{esc(report.from_)} to {esc(report.to)} (UTC), by {report.bucket}. '
        f"Parameters: since {esc(params.since or 'all retained')}, until "
        f"{esc(params.until or 'the newest post')}, top {params.top}.</p>",
        f"<p><strong>{p.total:,} posts by {report.people:,} people</strong> "
        f"({report.posts_per_person} posts per person).</p>",
        _table(["original", "repost", "quote", "reply"],
               [[f"{p.original:,}", f"{p.repost:,}", f"{p.quote:,}", f"{p.reply:,}"]], 0),
        _table(["platform", "posts"], [[esc(k), f"{n:,}"] for k, n in report.platforms.items()]),
        "<h2>Volume</h2>", f'<p class="legend">{legend}{_BURST_LEGEND}</p>',
        volume_chart(report.volume, _bursts(report)),
        "<h2>People</h2>", people_chart(report.volume),
    ]  # fmt: skip
    if minute := report.busiest_minute:
        parts.append(f"<p>Busiest minute: {esc(minute.start)}, {minute.posts:,} posts.</p>")
    parts += [
        "<h2>Top accounts</h2>",
        _table(["account", "platform", "posts"], [
            [_auto(shown.author(a.handle, a.name) or a.id), esc(a.platform), f"{a.posts:,}"]
            for a in report.top_accounts
        ], 2),
        "<h2>Top posts</h2>",
        _table(["post", "said", "by", "time", "people talking", "reposts", "quotes", "replies"], [
            [_link(t.url, t.url or f"{t.platform}:{t.id}"), _auto(shown.shortened(t.text, 280)),
             _auto(shown.author(t.handle, t.name)), esc(t.time or ""), f"{t.people_talking:,}",
             f"{t.reposts:,}", f"{t.quotes:,}", f"{t.replies:,}"]
            for t in report.top_posts
        ], 4),
        "<h2>Co-hashtags</h2>",
        _table(["hashtag", "posts"], [[esc(f"#{c.tag}"), f"{c.posts:,}"]
                                      for c in report.cohashtags]),
    ]  # fmt: skip
    if report.coordination:
        parts += [
            "<h2>Coordination</h2>",
            f"<p>{esc(coordination_tables.summary(report.coordination))}</p>",
        ]
        for table in coordination_tables.tables(report.coordination):
            rows = [[esc(cell) for cell in row] for row in table.rows]
            parts += [f"<h3>{esc(table.title)}</h3>", _table(table.header, rows)]
    parts.append(f'<p class="meta">{esc(report.generated_by)}</p>')
    return _page(f"{report.display} report", parts)
