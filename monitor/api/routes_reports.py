"""Reports over HTTP, in the format asked for by ``?format=`` or the Accept header."""

import orjson
from aiohttp import web

from monitor import hashtags, timewindow, watchlist
from monitor.api import state
from monitor.reports import ready, render_html, render_md, summary
from monitor.reports.model import ListSummary, TagReport

routes = web.RouteTableDef()

FORMATS = ("json", "md", "html")
_ACCEPTS = (("text/html", "html"), ("text/markdown", "md"), ("application/json", "json"))


@routes.get("/api/tags/{tag}/report")
async def tag_report(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    since, until, fmt, top = *_window(request), _format(request), _top(request)
    report = await ready.tag_report(state.redis(request), tag, since, until, top)
    return _respond(fmt, report)


@routes.get("/api/watchlists/{name}/summary")
async def list_summary(request: web.Request) -> web.Response:
    name = watchlist.parse_name(request.match_info["name"])
    since, until, fmt = *_window(request), _format(request)
    found = await summary.list_summary(state.redis(request), name, since or "24h", until)
    return _respond(fmt, found)


def _window(request: web.Request) -> tuple[str | None, str | None]:
    since, until = request.query.get("since"), request.query.get("until")
    timewindow.check(since)
    timewindow.check(until)
    return since, until


def _top(request: web.Request) -> int:
    raw = request.query.get("top", "10")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise _bad("top", f"top must be a whole number from 1 to 1000, not {raw[:20]!r}")
    return int(raw)


def _format(request: web.Request) -> str:
    asked = request.query.get("format")
    if asked is not None:
        if asked not in FORMATS:
            raise _bad("format", f"format must be one of {', '.join(FORMATS)}, not {asked[:20]!r}")
        return asked
    accept = request.headers.get("Accept", "")
    return next((fmt for kind, fmt in _ACCEPTS if kind in accept), "json")


def _respond(fmt: str, result: TagReport | ListSummary) -> web.Response:
    """Every parameter was checked before the report was built: bad input costs no query."""
    if fmt == "json":
        return web.Response(text=result.model_dump_json(by_alias=True),
                            content_type="application/json")  # fmt: skip
    if isinstance(result, TagReport):
        body = render_html.tag_report(result) if fmt == "html" else render_md.tag_report(result)
    else:
        body = render_html.list_summary(result) if fmt == "html" else render_md.list_summary(result)
    return web.Response(text=body, content_type="text/html" if fmt == "html" else "text/markdown")


def _bad(field: str, message: str) -> web.HTTPBadRequest:
    body = orjson.dumps({"error": message, "field": field}).decode()
    return web.HTTPBadRequest(text=body, content_type="application/json")
