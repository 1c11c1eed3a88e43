"""The Reddit collector against a fake Reddit: OAuth app token, search paging, 429 as 200."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import reddit as fake
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once
from workers.oneshot import aggregating, until_applied

TAG = "IRGCOutOfIraq"


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_backoff_s": 0.01})


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REDDIT_ID", "app-id")
    monkeypatch.setenv("REDDIT_SECRET", "app-secret")
    yield


@pytest.fixture
async def site(app_env: None) -> AsyncIterator[tuple[fake.Reddit, str]]:
    state = fake.Reddit()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


async def start(redis: Redis, url: str) -> None:
    await watchlist.add(redis, "default", [TAG.lower()])
    source = sources.make("reddit", url, name="reddit", token_env="REDDIT_ID",
                          secret_env="REDDIT_SECRET")  # fmt: skip
    await sources.add(redis, source)


def expected(made: list[fake.Json]) -> tuple[int, int, int]:
    """Posts, people ([deleted] counting once) and crossposts, from the submissions."""
    people = {s.get("author_fullname", "[deleted]") for s in made}
    return len(made), len(people), sum(1 for s in made if s["crosspost_parent"])


async def figures(redis: Redis) -> tuple[int, int, int]:
    report = await tag_report(redis, TAG.lower())
    return report.posts.total, report.people, report.posts.repost


async def test_search_pages_down_then_stops_at_what_it_has_seen(
    redis: Redis, fast: Settings, site: tuple[fake.Reddit, str]
) -> None:
    state, url = site
    made = fake.campaign(state, 230, TAG, datetime.now(UTC) - timedelta(days=1))
    await start(redis, url)

    [first] = await collect_once(redis, fast)
    assert (first.posts, first.errors) == (230, 0)
    assert await figures(redis) == expected(made)
    assert state.tokens_issued == 1 and len(state.searches) == 3

    later = fake.campaign(state, 5, TAG, datetime.now(UTC))
    state.searches.clear()
    [second] = await collect_once(redis, fast)
    assert len(state.searches) == 1 and second.posts == 100  # one page reaches the known ones
    assert await figures(redis) == expected(made + later)


async def test_the_token_is_kept_across_passes_and_renewed_when_refused(
    redis: Redis, fast: Settings, site: tuple[fake.Reddit, str]
) -> None:
    state, url = site
    made = fake.campaign(state, 20, TAG, datetime.now(UTC) - timedelta(hours=1))
    await start(redis, url)
    collector = Collector(redis, fast, name="daemon")
    async with aggregating(redis, fast, "daemon-aggregator") as aggregator:
        await collector.collect_once()
        await collector.collect_once()
        assert state.tokens_issued == 1
        state.expire()
        [again] = await collector.collect_once()
        await collector.close()
        assert collector.last_entries
        await until_applied(redis, collector.last_entries.items(), aggregator)

    assert again.errors == 0 and state.tokens_issued == 2 and state.served[401] == 1
    assert await figures(redis) == expected(made)


async def test_a_429_sent_as_200_is_waited_out_like_any_429(
    redis: Redis, fast: Settings, site: tuple[fake.Reddit, str]
) -> None:
    state, url = site
    made = fake.campaign(state, 30, TAG, datetime.now(UTC) - timedelta(hours=1))
    state.faults = [fake.TOO_MANY_AS_200]
    await start(redis, url)

    [result] = await collect_once(redis, fast)

    assert result.errors == 0 and not state.faults
    assert await figures(redis) == expected(made)


async def test_wrong_app_credentials_are_recorded(
    redis: Redis, fast: Settings, site: tuple[fake.Reddit, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = site
    await start(redis, url)
    monkeypatch.setenv("REDDIT_SECRET", "wrong")

    [result] = await collect_once(redis, fast)

    assert result.errors == 1
    [health] = await sources.states(redis)
    assert health.last_error == "#irgcoutofiraq: HTTP 401: Unauthorized"


def test_reddit_needs_both_variables(app_env: None) -> None:
    with pytest.raises(sources.InvalidSource, match="reddit needs --client-id-env VAR and"):
        sources.make("reddit", None)
    with pytest.raises(sources.InvalidSource, match="reddit needs --client-id-env VAR and"):
        sources.make("reddit", None, token_env="REDDIT_ID")
    made = sources.make("reddit", None, token_env="REDDIT_ID", secret_env="REDDIT_SECRET")
    assert (made.base_url, made.auth_url) == ("https://oauth.reddit.com", "https://www.reddit.com")
