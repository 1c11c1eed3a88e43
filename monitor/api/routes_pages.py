"""The dashboard: plain HTML pages served by the API, with no script and nothing fetched from
elsewhere, so they work offline and without a build step.

``/`` lists every watchlist's tags with their people and posts over the last 24 hours (up to
each tag's newest post), an hourly volume sparkline and the last burst; ``/tags/TAG`` is the tag's
full report. Forms add and remove tags; they need the API token, like every write.
"""

from urllib.parse import quote

from aiohttp import web

from monitor import hashtags, watchlist
from monitor.api import auth, state
from monitor.api.routes_reports import kept_or_built
from monitor.reports import ready, render_html
from monitor.reports.build import NoData
from monitor.reports.model import TagReport
from monitor.reports.render_html import esc

routes = web.RouteTableDef()

_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
_STYLE = """body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{padding:.25em .8em;border-bottom:1px solid
#ddd;text-align:left}td.n{text-align:right}form{margin:.3em 0}.meta{color:#555}.error{color:#a00}"""


def _page(title: str, body: str, status: int = 200) -> web.Response:
    head = f'<meta charset="utf-8"><title>{esc(title)}</title><style>{_STYLE}</style>'
    html = f'<!DOCTYPE html>\n<html lang="en"><head>{head}</head><body>{body}</body></html>\n'
    response = web.Response(text=html, content_type="text/html", status=status)
    response.headers["Content-Security-Policy"] = _CSP
    return response


def _sparkline(report: TagReport) -> str:
    values = [point.posts for point in report.volume]
    peak, width = max(values, default=0) or 1, 120
    step = width / max(len(values), 1)
    points = " ".join(f"{i * step:.1f},{20 - v / peak * 18:.1f}" for i, v in enumerate(values))
    return (f'<svg width="{width}" height="20" role="img" aria-label="posts per hour">'
            f'<polyline points="{points}" fill="none" stroke="#3b6ea8"/></svg>')  # fmt: skip


def _token_field() -> str:
    return '<input type="password" name="token" placeholder="API token" required>'


async def _row(request: web.Request, name: str, tag: str) -> str:
    try:
        report = await kept_or_built(request, tag, ready.Params(since="24h"))
    except NoData:
        return f"<tr><td>#{esc(tag)}</td><td colspan=4>no posts yet</td>{_remove(name, tag)}</tr>"
    bursts = report.coordination.bursts if report.coordination else []
    last = esc(bursts[-1].start) if bursts else "none"
    link = f'<a href="/tags/{quote(tag, safe="")}">{esc(report.display)}</a>'
    return (f"<tr><td>{link}</td><td class=n>{report.people:,}</td><td class=n>"
            f"{report.posts.total:,}</td><td>{_sparkline(report)}</td><td>{last}</td>"
            f"{_remove(name, tag)}</tr>")  # fmt: skip


def _remove(name: str, tag: str) -> str:
    return (f'<td><form method="post" action="/watchlists/remove"><input type="hidden" name="list" '
            f'value="{esc(name)}"><input type="hidden" name="tag" value="{esc(tag)}">'
            f'{_token_field()}<button>remove</button></form></td>')  # fmt: skip


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    redis = state.redis(request)
    parts = ["<h1>hashmon</h1>", '<p class="meta">Each tag over the 24 hours up to its newest '
             "post: people talking, posts, posts per hour, and the last burst.</p>"]  # fmt: skip
    for name in await watchlist.names(redis):
        rows = [await _row(request, name, tag) for tag in sorted(await watchlist.tags(redis, name))]
        parts += [f'<h2 id="list-{esc(name)}">{esc(name)}</h2><table><thead><tr><th>tag</th>'
                  "<th>people</th><th>posts</th><th>volume</th><th>last burst</th><th></th></tr>"
                  f"</thead><tbody>{''.join(rows)}</tbody></table>"]  # fmt: skip
    parts.append('<h2>Watch a tag</h2><form id="add" method="post" action="/watchlists/add">'
                 '<input name="tag" placeholder="#tag" required> on list <input name="list" '
                 f'value="{watchlist.DEFAULT}" required> {_token_field()} <button>watch</button>'
                 "</form>")  # fmt: skip
    return _page("hashmon", "".join(parts))


@routes.get("/tags/{tag}")
async def tag_page(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    report = await kept_or_built(request, tag, ready.Params())
    page = render_html.tag_report(report)
    response = web.Response(text=page.replace("<body>", '<body><p><a href="/">all tags</a></p>', 1),
                            content_type="text/html")  # fmt: skip
    response.headers["Content-Security-Policy"] = _CSP
    return response


async def _form(request: web.Request) -> tuple[str, str]:
    """The list and tag of a form, once its token is checked; bad input is a page saying so."""
    form = await request.post()
    token = auth.configured(request)
    if token is None:
        raise _refused(web.HTTPForbidden, auth.DISABLED)
    if not auth.matches(token, str(form.get("token", ""))):
        raise _refused(web.HTTPUnauthorized, "a valid API token is needed to change a watchlist")
    try:
        name = watchlist.parse_name(str(form.get("list", "")))
        return name, hashtags.parse(str(form.get("tag", "")))
    except (watchlist.InvalidListName, hashtags.InvalidTag) as exc:
        raise _refused(web.HTTPBadRequest, str(exc)) from None


def _refused(kind: type[web.HTTPException], message: str) -> web.HTTPException:
    """An error page saying what was wrong; nothing was changed."""
    body = f'<h1>Not changed</h1><p class="error">{esc(message)}</p><p><a href="/">back</a></p>'
    return kind(text=_page("hashmon: not changed", body).text, content_type="text/html")


@routes.post("/watchlists/add")
async def add(request: web.Request) -> web.Response:
    name, tag = await _form(request)
    await watchlist.add(state.redis(request), name, [tag])
    raise web.HTTPSeeOther("/")


@routes.post("/watchlists/remove")
async def remove(request: web.Request) -> web.Response:
    name, tag = await _form(request)
    await watchlist.remove(state.redis(request), name, [tag])
    raise web.HTTPSeeOther("/")
