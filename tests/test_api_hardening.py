"""The API as an attacker meets it: hostile windows, tokens, methods, Hosts and bodies."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from redis.asyncio import Redis

from monitor import keys, sources, watchlist
from monitor.api.app import make_app
from monitor.settings import Settings
from tests.conftest import TOKEN
from tests.test_api import load

Client = tuple[ClientSession, str]
REPORT = "/api/tags/irgcoutofiraq/report"


@asynccontextmanager
async def served(redis: Redis, settings: Settings, **changes: object) -> AsyncIterator[Client]:
    async with TestServer(make_app(redis, settings.model_copy(update=changes)),
                          host="127.0.0.1") as server, ClientSession() as client:  # fmt: skip
        yield client, str(server.make_url("")).rstrip("/")


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("since=999999999d", 400, "since"),
        ("since=" + "9" * 60 + "d", 400, "since"),
        ("since=1" + "0" * 70, 400, "since"),
        ("until=1e9d", 400, "until"),
        ("since=2030-01-01T00:00:00Z", 400, "since/until"),
        ("until=1999-01-01T00:00:00Z", 400, "since/until"),
        ("since=2h&until=3h", 400, "since/until"),
    ],
)
async def test_windows_beyond_reason_are_refused_naming_the_parameter(
    redis: Redis, settings: Settings, api: Client, query: str, status: int, field: str
) -> None:
    await load(redis, settings)
    client, base = api
    for path in (REPORT, "/api/tags/irgcoutofiraq/network", "/api/watchlists/default/summary"):
        async with client.get(f"{base}{path}?{query}&behaviour=co-post") as response:
            body = await response.json()
        assert (response.status, body.get("field")) == (status, field), (path, body)
        assert "\n" not in body["error"]


async def test_a_window_past_the_retained_posts_is_clipped_to_them(
    redis: Redis, settings: Settings, api: Client
) -> None:
    await load(redis, settings)
    client, base = api
    async with client.get(f"{base}{REPORT}") as response:
        everything = await response.json()
    wide = "since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59Z"
    for query in (wide, "since=36500d", "until=9999-12-31T23:59:59-23:59"):
        async with client.get(f"{base}{REPORT}?{query}") as response:
            found = await response.json()
        assert response.status == 200, found
        assert (found["from"], found["to"]) == (everything["from"], everything["to"])
        assert found["posts"] == everything["posts"]
        assert len(found["volume"]) == len(everything["volume"]) == 6  # minutes, not millennia
    async with client.get(
        f"{base}/api/tags/irgcoutofiraq/network?{wide}&behaviour=co-post"
    ) as response:
        assert response.status == 200


async def test_a_build_over_its_budget_is_a_503_and_is_kept_for_the_next_reader(
    redis: Redis, settings: Settings
) -> None:
    await load(redis, settings)
    async with served(redis, settings, api_budget_s=0.001) as (client, base):
        async with client.get(f"{base}{REPORT}?since=3m") as response:
            body = await response.json()
        assert (response.status, body["field"]) == (503, "since/until")
        assert response.headers["Retry-After"] and "shorter window" in body["error"]
        kept = keys.reports("irgcoutofiraq")
        for _ in range(200):  # the build goes on in its thread, and keeps what it built
            if await redis.hlen(kept) > 1:
                break
            await asyncio.sleep(0.05)
        async with client.get(f"{base}{REPORT}?since=3m") as response:
            assert response.status == 200
            assert (await response.json())["posts"]["total"] == 4


async def test_a_blank_token_disables_writes(redis: Redis, settings: Settings) -> None:
    for blank in ("", "  "):
        async with served(redis, settings, api_token=SecretStr(blank)) as (client, base):
            for header in ("Bearer ", "Bearer", "", f"Bearer {blank}"):
                url = f"{base}/api/watchlists/default/tags"
                async with client.post(url, json={"tags": ["#a"]},
                                       headers={"Authorization": header}) as response:  # fmt: skip
                    assert response.status == 403
    assert Settings(api_token=SecretStr(" ")).api_token is None
    assert await watchlist.names(redis) == []


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (f"Bearer {TOKEN}", 200),
        (f"bearer {TOKEN}", 200),
        (f"BEARER  {TOKEN} ", 200),
        (TOKEN, 401),
        (f"Basic {TOKEN}", 401),
        (f"Bearer {TOKEN}x", 401),
        ("Bearer", 401),
        (None, 401),
    ],
)
async def test_the_bearer_scheme_is_required_in_any_case(
    redis: Redis, api: Client, header: str | None, status: int
) -> None:
    client, base = api
    headers = {"Authorization": header} if header is not None else {}
    url = f"{base}/api/watchlists/default/tags"
    async with client.post(url, json={"tags": ["#a"]}, headers=headers) as response:
        assert response.status == status, await response.text()
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="hashmon"')
    assert await watchlist.names(redis) == (["default"] if status == 200 else [])


async def test_wrong_methods_say_what_is_allowed_and_options_is_answered(api: Client) -> None:
    client, base = api
    async with client.put(f"{base}{REPORT}") as response:
        assert response.status == 405
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
        assert "PUT" in (await response.json())["error"]
    async with client.options(f"{base}/api/watchlists/default/tags") as response:
        assert response.status == 204
        assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


async def test_every_response_carries_the_security_headers(
    redis: Redis, settings: Settings, api: Client
) -> None:
    await load(redis, settings)
    client, base = api
    for method, path in [("GET", REPORT), ("GET", "/api/tags/nope/report"), ("GET", "/nowhere"),
                         ("GET", f"{REPORT}?top=0"), ("DELETE", REPORT), ("GET", "/"),
                         ("GET", "/tags/irgcoutofiraq"), ("POST", "/watchlists/add"),
                         ("GET", "/tags/nope")]:  # fmt: skip
        async with client.request(method, base + path) as response:
            headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


async def test_a_foreign_host_is_refused_on_loopback(redis: Redis, settings: Settings) -> None:
    async with served(redis, settings) as (client, base):
        for host, status in (("evil.example", 400), ("localhost", 200), ("127.0.0.1:1", 200),
                             ("[::1]:8750", 200), ("127.0.0.1.evil.example", 400)):  # fmt: skip
            async with client.get(f"{base}/api/watchlists", headers={"Host": host}) as response:
                assert response.status == status, host
                if status == 400:
                    assert (await response.json())["field"] == "Host"
    async with served(redis, settings, api_allowed_hosts=["hashmon.example.org"]) as (client, base):
        for host, status in (("hashmon.example.org", 200), ("localhost", 400)):
            async with client.get(f"{base}/api/watchlists", headers={"Host": host}) as response:
                assert response.status == status, host
    async with served(redis, settings, api_host="0.0.0.0") as (client, base), \
            client.get(f"{base}/api/watchlists", headers={"Host": "any.example"}) as r:  # fmt: skip
        assert r.status == 200  # serving the network, with no names given: any Host


async def test_sources_hide_credentials_and_query_strings(redis: Redis, api: Client) -> None:
    address = "https://reader:pw@news.example/feed.rss?key=s3cret"
    feed = sources.Source(name="feed", platform="rss", rate=1, period_s=60, base_url=address)
    await sources.add(redis, feed)
    await sources.record_error(redis, "feed", "GET https://news.example/feed.rss?key=s3cret: 500")
    client, base = api
    async with client.get(f"{base}/api/sources") as response:
        text = await response.text()
        shown = (await response.json())[0]
    assert "s3cret" not in text and "reader" not in text and "pw@" not in text
    assert shown["source"]["base_url"] == "https://news.example/feed.rss?…"
    assert shown["last_error"] == "GET https://news.example/feed.rss?…: 500"


@pytest.mark.parametrize(
    "body",
    [
        lambda: b"[" * 100_000,
        lambda: b'{"tags": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        lambda: b'{"tags": ["#a"], "x": "' + b"y" * 200_000 + b'"}',
        lambda: b'{"tags": ["#a"]',
    ],
)
async def test_hostile_bodies_are_refused_and_change_nothing(
    redis: Redis, api: Client, body: Callable[[], bytes]
) -> None:
    client, base = api
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with client.post(f"{base}/api/watchlists/x/tags", data=body(), headers=auth) as r:
        answer = await r.json()
    assert r.status in (400, 413) and answer["error"], answer
    assert await watchlist.names(redis) == []
