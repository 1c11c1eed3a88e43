"""Coordination over HTTP: a tag's network in any export format, and the evidence of an edge."""

from fractions import Fraction

import orjson
from aiohttp import web

from monitor import hashtags, timewindow
from monitor.api import state
from monitor.reports import network_files
from monitor.reports.build import NoData, span
from monitor.signals import coordination, evidence
from monitor.signals.coordination import BEHAVIOURS, InvalidQuery, Query

routes = web.RouteTableDef()

FORMATS = {"csv": "text/csv", "json": "application/json", "gexf": "application/xml",
           "graphml": "application/xml"}  # fmt: skip


def _bad(field: str, message: str) -> web.HTTPBadRequest:
    body = orjson.dumps({"error": message, "field": field}).decode()
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _whole(request: web.Request, name: str, default: str) -> int:
    raw = request.query.get(name, default)
    if not raw.isdigit() or len(raw) > 9:
        raise _bad(name, f"{name} must be a whole number, not {raw[:20]!r}")
    return int(raw)


def _fraction(request: web.Request, name: str, default: str) -> Fraction:
    raw = request.query.get(name, default)
    try:
        return Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise _bad(name, f"{name} must be a number such as 0.8, not {raw[:20]!r}") from None


def _query(request: web.Request, behaviour: str | None = None) -> Query:
    """The query's parameters, each checked before anything is read."""
    behaviour = behaviour or request.query.get("behaviour", "")
    if behaviour not in BEHAVIOURS:
        raise _bad(
            "behaviour", f"behaviour must be one of {', '.join(BEHAVIOURS)}, not {behaviour[:20]!r}"
        )
    rule = request.query.get("text_rule", "extended")
    if rule not in ("extended", "toolkit"):
        raise _bad("text_rule", f"text_rule must be extended or toolkit, not {rule[:20]!r}")
    window, weight = _whole(request, "window", "60"), _whole(request, "min_weight", "2")
    threshold = _fraction(request, "threshold", "0.8")
    query = Query(behaviour, window, weight, rule, threshold)  # type: ignore[arg-type]
    settings = state.settings(request)
    try:
        query.check(settings.coordination_max_window_s, settings.coordination_min_similarity)
    except InvalidQuery as exc:
        field = str(exc).split(" ", 1)[0].lstrip("-").replace("-", "_")
        raise _bad(field, str(exc)) from None
    return query


async def _window(request: web.Request, tag: str) -> timewindow.Window:
    since, until = request.query.get("since"), request.query.get("until")
    timewindow.check(since)
    timewindow.check(until)
    limits = await span(state.redis(request), tag)
    if limits is None:
        raise NoData(f"#{tag} has no posts (or is not watched)")
    return timewindow.resolve(since, until, *limits)


@routes.get("/api/tags/{tag}/network")
async def network(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    query, fmt = _query(request), request.query.get("format", "json")
    if fmt not in FORMATS:
        raise _bad("format", f"format must be one of {', '.join(FORMATS)}, not {fmt[:20]!r}")
    window = await _window(request, tag)
    found = await coordination.network(state.redis(request), tag, query, window)
    body = {
        "csv": lambda: network_files.as_csv(found),
        "json": lambda: network_files.as_json(tag, found, window),
        "gexf": lambda: network_files.as_gexf(found),
        "graphml": lambda: network_files.as_graphml(found),
    }[fmt]()
    return web.Response(text=body, content_type=FORMATS[fmt])


@routes.get("/api/tags/{tag}/evidence")
async def pairs(request: web.Request) -> web.Response:
    tag = hashtags.parse(request.match_info["tag"])
    account_a, account_b = request.query.get("a", ""), request.query.get("b", "")
    for name, value in (("a", account_a), ("b", account_b)):
        if not value:
            raise _bad(name, f"{name}: an account id is needed")
    query = _query(request, request.query.get("behaviour", "co-post"))
    window = await _window(request, tag)
    found = await evidence.between(state.redis(request), tag, query, window, account_a, account_b)
    rows = [network_files.evidence_row(query, e) for e in found]
    return web.json_response({"parameters": query.parameters(), "pairs": rows})
