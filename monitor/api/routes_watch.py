"""Watchlists: read by anyone who can reach the API, changed only with the token."""

from aiohttp import web

from monitor import watchlist
from monitor.api import params, state
from monitor.api.auth import require_token
from monitor.reports.build import display

routes = web.RouteTableDef()


@routes.get("/api/watchlists")
async def lists(request: web.Request) -> web.Response:
    redis = state.redis(request)
    found = {name: await watchlist.tags(redis, name) for name in await watchlist.names(redis)}
    return web.json_response(found)


@routes.get("/api/watchlists/{name}")
async def one_list(request: web.Request) -> web.Response:
    name = watchlist.parse_name(request.match_info["name"])
    redis = state.redis(request)
    tags = await watchlist.tags(redis, name)
    if not tags:
        raise web.HTTPNotFound(reason=f"watchlist {name!r} is empty or does not exist")
    shown = {tag: await display(redis, tag) for tag in tags}
    return web.json_response({"list": name, "tags": tags, "display": shown})


@routes.post("/api/watchlists/{name}/tags")
async def add_tags(request: web.Request) -> web.Response:
    require_token(request)
    name = watchlist.parse_name(request.match_info["name"])
    tags = watchlist.parse_tags(params.body(params.Tags, await request.read()).tags)
    added = await watchlist.add(state.redis(request), name, tags)
    return web.json_response({"list": name, "added": added, "tags": tags})


@routes.delete("/api/watchlists/{name}/tags/{tag}")
async def remove_tag(request: web.Request) -> web.Response:
    require_token(request)
    name = watchlist.parse_name(request.match_info["name"])
    tags = watchlist.parse_tags([request.match_info["tag"]])
    removed = await watchlist.remove(state.redis(request), name, tags)
    return web.json_response({"list": name, "removed": removed})
