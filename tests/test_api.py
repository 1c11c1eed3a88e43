"""The HTTP API against a real Redis: reads, token-guarded writes, reports in three formats,
JSON errors naming the field, metrics, and an OpenAPI document that matches the routes."""

import signal
import urllib.request
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from openapi_spec_validator import validate
from redis.asyncio import Redis

from monitor import queue, watchlist
from monitor.api.app import make_app
from monitor.api.openapi import document
from monitor.settings import Settings
from tests.conftest import TOKEN
from tests.factories import post
from tests.processes import environment, free_port, hashmon, wait_for
from workers.aggregator import Aggregator


async def load(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    posts = [post(f"o{i}", f"u{i % 3}", ["IRGCOutOfIraq"], at=i * 60) for i in range(6)]
    posts.append(post("r1", "u9", ["IRGCOutOfIraq"], kind="repost", ref="o0", at=30))
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=100)
    aggregator = Aggregator(redis, settings, name="agg")
    await aggregator.run_until_idle()
    await aggregator.close()  # gone: /healthz must see no aggregator


async def test_reports_in_each_format_with_the_same_figures(
    redis: Redis, settings: Settings, api: tuple[ClientSession, str]
) -> None:
    client, base = api
    await load(redis, settings)
    async with client.get(f"{base}/api/tags/%23IRGCOutOfIraq/report") as response:
        report = await response.json()
    assert (response.status, report["posts"]["total"], report["people"]) == (200, 7, 4)
    async with client.get(f"{base}/api/tags/irgcoutofiraq/report?format=md") as response:
        assert response.content_type == "text/markdown"
        assert "**7 posts by 4 people**" in await response.text()
    headers = {"Accept": "text/html,application/xhtml+xml"}
    async with client.get(f"{base}/api/tags/irgcoutofiraq/report", headers=headers) as response:
        assert response.content_type == "text/html"
        assert "<strong>7 posts by 4 people</strong>" in await response.text()
    async with client.get(f"{base}/api/watchlists/default/summary?since=1h") as response:
        assert (await response.json())["rows"][0]["posts"] == 7


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/api/tags/two%20words/report", 400, "tag"),
        ("/api/tags/ok/report?since=yesterday", 400, "since"),
        ("/api/tags/ok/report?top=0", 400, "top"),
        ("/api/tags/ok/report?format=pdf", 400, "format"),
        ("/api/watchlists/bad%20name", 400, "list"),
        ("/api/tags/unwatched/report", 404, None),
        ("/api/watchlists/nothing", 404, None),
    ],
)
async def test_bad_parameters_get_a_json_error_naming_the_field(
    api: tuple[ClientSession, str], path: str, status: int, field: str | None
) -> None:
    client, base = api
    async with client.get(base + path) as response:
        body = await response.json()
    assert response.status == status and body["error"]
    assert body.get("field") == field


async def test_writes_need_the_token(
    redis: Redis, settings: Settings, api: tuple[ClientSession, str]
) -> None:
    client, base = api
    url = f"{base}/api/watchlists/iraq-2019/tags"
    async with client.post(url, json={"tags": ["#IraqProtests"]}) as response:
        assert response.status == 401
    wrong = {"Authorization": "Bearer nope"}
    async with client.post(url, json={"tags": ["#IraqProtests"]}, headers=wrong) as response:
        assert response.status == 401
    assert await watchlist.names(redis) == []
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with client.post(url, json={"tags": ["#IraqProtests", "#"]}, headers=auth) as response:
        assert (response.status, (await response.json())["field"]) == (400, "tag")
    async with client.post(url, json={"tags": "#IraqProtests"}, headers=auth) as response:
        assert (response.status, (await response.json())["field"]) == (400, "tags")
    async with client.post(url, data=b"{not json", headers=auth) as response:
        assert (response.status, (await response.json())["field"]) == (400, "body")
    assert await watchlist.names(redis) == []
    async with client.post(url, json={"tags": ["#IraqProtests"]}, headers=auth) as response:
        assert (await response.json())["added"] == 1
    async with client.get(f"{base}/api/watchlists") as response:
        assert await response.json() == {"iraq-2019": ["iraqprotests"]}
    async with client.delete(f"{url}/%23IraqProtests", headers=auth) as response:
        assert (await response.json())["removed"] == 1


async def test_without_a_configured_token_writes_are_refused(
    redis: Redis, settings: Settings
) -> None:
    async with TestServer(make_app(redis, settings), host="127.0.0.1") as server, \
            ClientSession() as client:  # fmt: skip
        url = str(server.make_url("/api/watchlists/default/tags"))
        async with client.post(
            url, json={"tags": ["#a"]}, headers={"Authorization": "Bearer "}
        ) as r:
            assert r.status == 403
            assert "HASHMON_API_TOKEN" in (await r.json())["error"]
    assert await watchlist.names(redis) == []


async def test_health_and_metrics_read_the_state_in_redis(
    redis: Redis, settings: Settings, api: tuple[ClientSession, str]
) -> None:
    client, base = api
    await load(redis, settings)
    async with client.get(f"{base}/healthz") as response:
        assert response.status == 503 and (await response.json())["ok"] is False
    aggregator = Aggregator(redis, settings, name="live")
    await aggregator.beat(force=True)
    async with client.get(f"{base}/healthz") as response:
        assert response.status == 200
    async with client.get(f"{base}/metrics") as response:
        text = await response.text()
    assert 'hashmon_roles{role="aggregator"} 1.0' in text
    assert "hashmon_watched_tags 1.0" in text
    assert 'hashmon_posts_applied_total{verdict="new"} 7.0' in text  # load() applies 7 posts
    assert 'hashmon_aggregation_latency_seconds_bucket{le="+Inf"} 1.0' in text  # in one entry
    assert "hashmon_aggregation_latency_seconds_count 1.0" in text
    await aggregator.close()


async def test_the_openapi_document_describes_every_route(api: tuple[ClientSession, str]) -> None:
    client, base = api
    async with client.get(f"{base}/openapi.json") as response:
        served = await response.json()
    assert served == document(Settings())
    app = make_app(None, Settings())  # type: ignore[arg-type]  # routes only, no requests
    routes = {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.resource is not None and route.method != "HEAD"
    }
    paths = document(Settings())["paths"]
    documented = {(path, method) for path, ops in paths.items() for method in ops}
    assert routes == documented
    validate(served)  # a valid OpenAPI 3.1 document


def test_hashmon_serve_listens_and_stops_on_sigterm(redis_url: str, tmp_path: Path) -> None:
    port = free_port()  # free now; the server takes it a moment later
    env = environment(redis_url=redis_url, data_dir=str(tmp_path), api_token=TOKEN)
    server = hashmon("serve", "--port", str(port), env=env)

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/openapi.json") as response:
                return bool(response.status == 200)
        except OSError:
            return False

    wait_for(answers, what="the API")
    second = hashmon("serve", "--port", str(port), env=env)
    _, refused = second.communicate(timeout=60)
    assert second.returncode == 1
    assert refused.strip().splitlines()[-1] == (
        f"error: the API cannot listen on 127.0.0.1:{port}: address already in use; "
        "set HASHMON_API_PORT (0: any free port)"
    )
    server.send_signal(signal.SIGTERM)
    _, err = server.communicate(timeout=30)
    assert server.returncode == 0, err
    assert f"listening on http://127.0.0.1:{port}" in err


def test_an_unknown_host_is_one_line(redis_url: str, tmp_path: Path) -> None:
    env = environment(redis_url=redis_url, data_dir=str(tmp_path))
    server = hashmon("serve", "--host", "no.such.host.invalid", env=env)
    _, err = server.communicate(timeout=60)
    assert server.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the API cannot listen on no.such.host.invalid:0: ")
    assert last.endswith("; set HASHMON_API_HOST") and "unknown error" not in last


async def test_network_and_evidence_match_the_library(
    api: tuple[ClientSession, str], redis: Redis, settings: Settings
) -> None:
    client, base = api
    await load(redis, settings)
    url = f"{base}/api/tags/%23IRGCOutOfIraq/network?behaviour=co-post&min_weight=1"
    async with client.get(url) as response:
        found = await response.json()
    assert response.status == 200 and found["parameters"]["min_weight"] == 1
    edges = {(e["source"], e["target"], e["weight"]) for e in found["edges"]}
    assert edges == {
        ("u0", "u1", 2),
        ("u1", "u0", 2),
        ("u1", "u2", 2),
        ("u2", "u1", 2),
        ("u2", "u0", 1),
        ("u0", "u2", 1),
    }  # one post a minute, u0 u1 u2 u0 u1 u2
    async with client.get(url + "&format=csv") as response:
        lines = (await response.text()).splitlines()
    assert response.content_type == "text/csv" and len(lines) == 1 + len(edges)
    async with client.get(f"{base}/api/tags/IRGCOutOfIraq/evidence?a=u2&b=u0") as response:
        pairs = (await response.json())["pairs"]
    assert [(p["first"]["post"], p["second"]["post"], p["dt_s"], p["shared"]) for p in pairs] == [
        ("x:o2", "x:o3", 60.0, "#irgcoutofiraq")
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("behaviour=co-posting", "behaviour"),
        ("behaviour=co-post&window=301", "window"),
        ("behaviour=co-post&min_weight=0", "min_weight"),
        ("behaviour=co-similar&threshold=0.5", "threshold"),
        ("behaviour=co-similar&threshold=nan", "threshold"),
        ("behaviour=co-post&text_rule=loose", "text_rule"),
        ("behaviour=co-post&format=pdf", "format"),
    ],
)
async def test_bad_network_parameters_name_the_field(
    api: tuple[ClientSession, str], redis: Redis, settings: Settings, query: str, field: str
) -> None:
    client, base = api
    await load(redis, settings)
    async with client.get(f"{base}/api/tags/IRGCOutOfIraq/network?{query}") as response:
        assert response.status == 400
        assert (await response.json())["field"] == field
    async with client.get(f"{base}/api/tags/IRGCOutOfIraq/evidence?a=u1") as response:
        assert response.status == 400 and (await response.json())["field"] == "b"


async def test_every_route_answers_as_its_document_says(
    api: tuple[ClientSession, str], redis: Redis, settings: Settings
) -> None:
    client, base = api
    await load(redis, settings)
    queries = {
        "/api/tags/{tag}/network": "?behaviour=co-post",
        "/api/tags/{tag}/evidence": "?a=u1&b=u2",
    }
    form = {"list": "default", "tag": "#y", "token": TOKEN}
    bodies: dict[str, dict[str, object]] = {
        "/api/watchlists/{name}/tags": {"json": {"tags": ["#x"]}},
        "/watchlists/add": {"data": form},
        "/watchlists/remove": {"data": form},
    }
    checked = 0
    paths = document(settings)["paths"]
    for path, operations in paths.items():
        url = base + path.format(tag="irgcoutofiraq", name="default") + queries.get(path, "")
        for method, operation in operations.items():
            request = client.request(method, url.replace("{tag}", "x"), allow_redirects=False,
                                     headers={"Authorization": f"Bearer {TOKEN}"},
                                     **bodies.get(path, {}))  # type: ignore[arg-type]  # fmt: skip
            async with request as response:
                documented = operation["responses"].get(str(response.status))
                assert documented is not None, (method, path, response.status)
                kinds = documented.get("content", {})
                assert not kinds or response.content_type in kinds, (method, path)
                checked += 1
    assert checked == sum(len(ops) for ops in paths.values())
