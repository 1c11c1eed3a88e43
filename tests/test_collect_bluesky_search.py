"""Bluesky search signed in with an app password, and reposts it makes countable for Jetstream."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import bluesky as fake
from tests.fakes import jetstream
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once
from workers.oneshot import aggregating, until_applied

TAG = "IRGCOutOfIraq"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_backoff_s": 0.01, "stream_flush_s": 0.05,
                                       "stream_idle_s": 0.3})  # fmt: skip


@pytest.fixture
def login(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("BSKY_HANDLE", "campaignwatch.example.org")
    monkeypatch.setenv("BSKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop")
    yield


@pytest.fixture
async def pds(login: None) -> AsyncIterator[tuple[fake.Search, str]]:
    state = fake.Search()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


def campaign(state: fake.Search, count: int, start: datetime, first: int = 0) -> list[fake.Json]:
    texts = ["سپاه باید برود #IRGCOutOfIraq", "الحرس الثوري برّا #IRGCOutOfIraq",
             "Baghdad says it #IRGCOutOfIraq"]  # fmt: skip
    return [
        state.add(fake.view(f"did:plc:user{n % 9}", f"user{n % 9}.bsky.social", f"s{n}",
                            texts[n % 3], [TAG], start + timedelta(minutes=n - first)))
        for n in range(first, first + count)
    ]  # fmt: skip


async def start(redis: Redis, url: str) -> None:
    await watchlist.add(redis, "default", [TAG.lower()])
    source = sources.make("bluesky-search", url, name="search", token_env="BSKY_HANDLE",
                          secret_env="BSKY_APP_PASSWORD")  # fmt: skip
    await sources.add(redis, source)


async def test_search_backfills_then_polls_since_the_newest(
    redis: Redis, fast: Settings, pds: tuple[fake.Search, str]
) -> None:
    state, url = pds
    made = campaign(state, 230, START)
    await start(redis, url)

    [first] = await collect_once(redis, fast)
    assert (first.posts, first.errors) == (230, 0)
    report = await tag_report(redis, TAG.lower())
    assert (report.posts.total, report.people, report.platforms) == (230, 9, {"bluesky": 230})
    assert state.searches[0]["tag"] == [TAG.lower()] and state.searches[0]["q"] == [
        f"#{TAG.lower()}"
    ]

    later = campaign(state, 3, START + timedelta(hours=5), first=1000)
    state.searches.clear()
    [second] = await collect_once(redis, fast)
    since = datetime.fromisoformat(state.searches[0]["since"][0])
    assert since == datetime.fromisoformat(made[-1]["record"]["createdAt"])  # its sortAt
    assert second.posts == 4  # the newest known one again (since is inclusive), and 3 new
    assert (await tag_report(redis, TAG.lower())).posts.total == 230 + len(later)


async def test_an_expired_session_is_renewed(
    redis: Redis, fast: Settings, pds: tuple[fake.Search, str]
) -> None:
    state, url = pds
    campaign(state, 10, START)
    await start(redis, url)
    collector = Collector(redis, fast, name="daemon")
    async with aggregating(redis, fast, "daemon-aggregator") as aggregator:
        await collector.collect_once()
        state.expire()
        campaign(state, 2, START + timedelta(hours=1), first=1000)
        [again] = await collector.collect_once()
        await collector.close()
        assert collector.last_entries
        await until_applied(redis, collector.last_entries.items(), aggregator)
    assert again.errors == 0 and state.sessions == 2 and state.served[400] == 1
    assert (await tag_report(redis, TAG.lower())).posts.total == 12


async def test_a_wrong_app_password_is_recorded(
    redis: Redis, fast: Settings, pds: tuple[fake.Search, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = pds
    await start(redis, url)
    monkeypatch.setenv("BSKY_APP_PASSWORD", "wrong")

    [result] = await collect_once(redis, fast)

    assert result.errors == 1
    [health] = await sources.states(redis)
    assert health.last_error == "#irgcoutofiraq: HTTP 401: AuthenticationRequired"


async def test_jetstream_reposts_of_posts_found_by_search_are_counted(
    redis: Redis, fast: Settings, pds: tuple[fake.Search, str]
) -> None:
    state, url = pds
    [found] = campaign(state, 1, START)
    stream = jetstream.Jetstream()
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    stream.add(jetstream.repost("did:plc:fan", "r1", found["uri"], now_us))
    await start(redis, url)
    await collect_once(redis, fast)  # search first: Jetstream then knows the post's tags
    async with TestServer(stream.app(), host="127.0.0.1") as server:
        jet = sources.make("bluesky-jetstream", f"ws://127.0.0.1:{server.port}", name="jet")
        await sources.add(redis, jet)
        await collect_once(redis, fast.model_copy(update={"stream_idle_s": 1.0}))
    report = await tag_report(redis, TAG.lower())
    assert (report.posts.total, report.posts.repost) == (2, 1)
