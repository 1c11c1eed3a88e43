"""Reports over HTTP, in the format asked for by ``?format=`` or the Accept header."""

from aiohttp import web

from monitor import hashtags, watchlist
from monitor.api import params, state
from monitor.reports import ready, render_html, render_md, summary
from monitor.reports.model import ListSummary, TagReport

routes = web.RouteTableDef()

_ACCEPTS = (("text/html", "html"), ("text/markdown", "md"), ("application/json", "json"))


@routes.get("/api/tags/{tag}/report")
async def tag_report(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    asked = params.query(params.Report, request)
    since, until = params.bounds(asked)
    report = await kept_or_built(request, tag, ready.Params(since, until, asked.top))
    return _respond(_format(request, asked.format), report)


@routes.get("/api/watchlists/{name}/summary")
async def list_summary(request: web.Request) -> web.Response:
    name = watchlist.parse_name(request.match_info["name"])
    asked = params.query(params.Summary, request)
    since, until = params.bounds(asked)
    found = await state.builds(request).run(
        lambda redis: summary.list_summary(redis, name, since or "24h", until)
    )
    return _respond(_format(request, asked.format), found)


async def kept_or_built(request: web.Request, tag: str, wanted: ready.Params) -> TagReport:
    """The kept report, read here at once; else a fresh build, away from the event loop."""
    found = await ready.kept(state.redis(request), tag, wanted)
    if found is not None:
        return found
    return await state.builds(request).run(lambda redis: ready.refresh(redis, tag, wanted))


def _format(request: web.Request, asked: str | None) -> str:
    """The format asked for, else the first the Accept header names, else JSON."""
    if asked is not None:
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
