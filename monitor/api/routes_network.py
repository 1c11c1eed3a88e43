"""Coordination over HTTP: a tag's network in any export format, and the evidence of an edge."""

from fractions import Fraction

from aiohttp import web
from redis.asyncio import Redis

from monitor import accounts, hashtags, postlist, timewindow
from monitor.api import params, state
from monitor.reports import network_files
from monitor.reports.build import NoData, span
from monitor.signals import coordination, evidence
from monitor.signals.coordination import InvalidQuery, Query
from monitor.timewindow import Window

routes = web.RouteTableDef()

FORMATS = {"csv": "text/csv", "json": "application/json", "gexf": "application/xml",
           "graphml": "application/xml"}  # fmt: skip


def _query(request: web.Request, asked: params.Network | params.Evidence) -> Query:
    """The query, within the limits this server was started with."""
    threshold = Fraction(repr(asked.threshold))  # exact: 0.8 is 4/5
    query = Query(asked.behaviour, asked.window, asked.min_weight, asked.text_rule, threshold)
    settings = state.settings(request)
    try:
        query.check(settings.coordination_max_window_s, settings.coordination_min_similarity)
    except InvalidQuery as exc:
        field = str(exc).split(" ", 1)[0].lstrip("-").replace("-", "_")
        raise params.refused(field, str(exc)) from None
    return query


async def _window(redis: Redis, tag: str, since: str | None, until: str | None) -> Window:
    limits = await span(redis, tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    return timewindow.resolve(since, until, *limits)


@routes.get("/api/tags/{tag}/network")
async def network(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    asked = params.query(params.Network, request)
    query, (since, until) = _query(request, asked), params.bounds(asked)

    async def build(redis: Redis) -> str:
        """The network and its file, both away from the event loop."""
        within = await _window(redis, tag, since, until)
        found = await coordination.network(redis, tag, query, within)
        return {
            "csv": lambda: network_files.as_csv(found),
            "json": lambda: network_files.as_json(tag, found, within),
            "gexf": lambda: network_files.as_gexf(found),
            "graphml": lambda: network_files.as_graphml(found),
        }[asked.format]()

    body = await state.builds(request).run(build)
    return web.Response(text=body, content_type=FORMATS[asked.format])


@routes.get("/api/tags/{tag}/evidence")
async def pairs(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    asked = params.query(params.Evidence, request)
    query, (since, until) = _query(request, asked), params.bounds(asked)

    async def build(redis: Redis) -> list[evidence.Evidence]:
        within = await _window(redis, tag, since, until)
        a, b = await _accounts(redis, tag, asked)
        return await evidence.between(redis, tag, query, within, a.id, b.id)

    found = await state.builds(request).run(build)
    rows = [network_files.evidence_row(query, e) for e in found]
    return web.json_response({"parameters": query.parameters(), "pairs": rows})


@routes.get("/api/tags/{tag}/posts")
async def listed_posts(request: web.Request) -> web.Response:
    """The posts a report counts, newest first, with what they said; a page at a time."""
    tag = hashtags.parse(request.match_info["tag"])
    asked = params.query(params.Posts, request)
    since, until = params.bounds(asked)
    filters = postlist.Filters(asked.text, asked.account, asked.kind, asked.platform, since, until,
                               asked.limit, asked.cursor)  # fmt: skip

    async def build(redis: Redis) -> postlist.Page:
        try:
            return await postlist.page(redis, tag, filters)
        except accounts.AmbiguousAccount as exc:
            raise params.refused("account", str(exc)) from None
        except accounts.UnknownAccount as exc:
            raise params.unknown("account", str(exc)) from None
        except postlist.InvalidCursor as exc:
            raise params.refused("cursor", str(exc)) from None

    found = await state.builds(request).run(build)
    return web.Response(text=found.model_dump_json(), content_type="application/json")


async def _accounts(redis: Redis, tag: str, asked: params.Evidence) -> list[accounts.Account]:
    """The accounts a and b name; an ambiguous value is a 400 and an unknown one a 404, each
    naming its parameter."""
    try:
        return await accounts.resolve(redis, tag, asked.a, asked.b)
    except accounts.AmbiguousAccount as exc:
        raise params.refused("ab"[exc.which], str(exc)) from None
    except accounts.UnknownAccount as exc:
        raise params.unknown("ab"[exc.which], str(exc)) from None
