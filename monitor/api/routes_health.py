"""Health for probes, source health for people, Prometheus metrics for monitoring, and the
OpenAPI document that describes every route."""

from collections.abc import Iterable

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, exposition, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from monitor import health, ingest_stats, redact, sources
from monitor.api import openapi, state

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """200 while an aggregator runs (posts are being applied), else 503; the body says why."""
    found = await health.status(state.redis(request), state.settings(request).max_stream_backlog)
    ok = any(role.role == "aggregator" for role in found.roles)
    body = {"ok": ok, **found.model_dump(mode="json")}
    return web.json_response(body, status=200 if ok else 503)


@routes.get("/api/sources")
async def source_states(request: web.Request) -> web.Response:
    """Health and cursors; the URLs in them without credentials or query strings."""
    found = await sources.states(state.redis(request))
    return web.json_response([_shown(s) for s in found])


def _shown(found: sources.SourceState) -> dict[str, object]:
    source = found.source.model_copy(update={
        "base_url": redact.url(found.source.base_url),
        "auth_url": found.source.auth_url and redact.url(found.source.auth_url),
    })  # fmt: skip
    error = found.last_error and redact.urls_in(found.last_error)
    shown = found.model_copy(update={"source": source, "last_error": error})
    return shown.model_dump(mode="json")


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    """Read from Redis at each scrape, so every process serving the API reports the same."""
    redis = state.redis(request)
    found = await health.status(redis, state.settings(request).max_stream_backlog)
    registry = CollectorRegistry()
    for name, doc, value in (
        ("hashmon_stream_entries", "Entries held by the ingest stream", found.stream_length),
        ("hashmon_pending_entries", "Entries delivered, not yet applied", found.pending),
        ("hashmon_dead_letters", "Inputs set aside with a reason", found.dead_letters),
        ("hashmon_watched_tags", "Tags on any watchlist", found.watched_tags),
    ):
        Gauge(name, doc, registry=registry).set(value)
    Gauge("hashmon_held_back", "1 while publishers wait (backlog or memory limit)",
          registry=registry).set(1 if found.conditions else 0)  # fmt: skip
    running = Gauge("hashmon_roles", "Running roles", ["role"], registry=registry)
    for role in health.ROLE_ORDER:
        running.labels(role).set(sum(1 for r in found.roles if r.role == role))
    if found.oldest_waiting_s is not None:
        Gauge("hashmon_queue_lag_seconds", "Age of the oldest entry not yet applied",
              registry=registry).set(found.oldest_waiting_s)  # fmt: skip
    await _source_metrics(redis, registry)
    registry.register(_Collected(await ingest_stats.metrics(redis)))
    return web.Response(body=generate_latest(registry),
                        headers={"Content-Type": exposition.CONTENT_TYPE_LATEST})  # fmt: skip


async def _source_metrics(redis: Redis, registry: CollectorRegistry) -> None:
    posts = Gauge("hashmon_source_posts", "Posts collected from a source", ["source"],
                  registry=registry)  # fmt: skip
    lag = Gauge("hashmon_source_lag_seconds", "How far behind a source is", ["source"],
                registry=registry)  # fmt: skip
    failing = Gauge("hashmon_source_failing", "1 when the last attempt failed", ["source"],
                    registry=registry)  # fmt: skip
    for found in await sources.states(redis):
        name = found.source.name
        posts.labels(name).set(found.posts)
        if found.lag_s is not None:
            lag.labels(name).set(found.lag_s)
        last_ok = found.last_success_at or 0.0
        failing.labels(name).set(1 if (found.last_error_at or 0.0) > last_ok else 0)


class _Collected(Collector):
    """Metric families already read from Redis, for the scrape's registry."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


@routes.get("/openapi.json")
async def openapi_document(request: web.Request) -> web.Response:
    return web.json_response(openapi.document(state.settings(request)))
