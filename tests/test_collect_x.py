"""The X recent-search collector against a fake API v2, through Redis into reports."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import x as fake
from workers.collectors.once import collect_once

TAG = "BlackListMOIS"


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_backoff_s": 0.01, "backfill_pages": 100})


@pytest.fixture
def bearer(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("X_BEARER_TOKEN", "bearer-secret")
    yield "X_BEARER_TOKEN"


@pytest.fixture
async def api() -> AsyncIterator[tuple[fake.Search, str]]:
    state = fake.Search()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


async def start(redis: Redis, url: str, bearer: str) -> None:
    await watchlist.add(redis, "default", [TAG.lower()])
    await sources.add(redis, sources.make("x", url, name="x", token_env=bearer))


def expected(tweets: list[fake.Json]) -> tuple[int, int, int]:
    """Posts, people and retweets, counted from the tweets themselves."""
    retweets = sum(1 for t in tweets if t.get("referenced_tweets"))
    return len(tweets), len({t["author_id"] for t in tweets}), retweets


async def figures(redis: Redis) -> tuple[int, int, int]:
    report = await tag_report(redis, TAG.lower())
    return report.posts.total, report.people, report.posts.repost


async def test_search_pages_then_polls_since_the_newest(
    redis: Redis, fast: Settings, api: tuple[fake.Search, str], bearer: str
) -> None:
    state, url = api
    tweets = fake.campaign(state, 250, TAG)
    await start(redis, url, bearer)

    [first] = await collect_once(redis, fast)
    assert (first.posts, first.errors) == (250, 0)
    assert await figures(redis) == expected(tweets)
    assert [q.get("next_token") is not None for q in state.queries] == [False, True, True]

    later = fake.campaign(state, 30, TAG, start=datetime.now(UTC) + timedelta(minutes=5))
    state.queries.clear()
    [second] = await collect_once(redis, fast)
    assert second.posts == 30
    assert state.queries[0]["since_id"] == max(tweets, key=lambda t: int(t["id"]))["id"]
    assert await figures(redis) == expected(tweets + later)


async def test_a_retweet_carries_the_tags_of_the_tweet_it_retweets(
    redis: Redis, fast: Settings, api: tuple[fake.Search, str], bearer: str
) -> None:
    state, url = api
    fake.campaign(state, 3, TAG)  # an original, another, then a retweet of the first
    retweet = state.tweets[0]
    assert retweet["text"].startswith("RT @") and retweet["text"].endswith("…")
    await start(redis, url, bearer)

    await collect_once(redis, fast)

    report = await tag_report(redis, TAG.lower())
    assert (report.posts.total, report.posts.repost) == (3, 1)
    talking = {p.id: p.people_talking for p in report.top_posts}
    assert talking[retweet["referenced_tweets"][0]["id"]] == 1


async def test_a_run_cut_short_goes_on_from_its_next_token(
    redis: Redis, fast: Settings, api: tuple[fake.Search, str], bearer: str
) -> None:
    state, url = api
    tweets = fake.campaign(state, 250, TAG)
    await start(redis, url, bearer)
    one_page = fast.model_copy(update={"backfill_pages": 1})

    passes = [(await collect_once(redis, one_page))[0].posts for _ in range(4)]

    assert passes == [100, 100, 50, 0]
    assert [("next_token" in q, "since_id" in q) for q in state.queries] == [
        (False, False), (True, False), (True, False), (False, True),
    ]  # fmt: skip
    assert await figures(redis) == expected(tweets)


async def test_a_window_used_up_is_waited_out(
    redis: Redis, fast: Settings, api: tuple[fake.Search, str], bearer: str
) -> None:
    state, url = api
    state.limit, state.window_s = 2, 1.0
    tweets = fake.campaign(state, 350, TAG)
    await start(redis, url, bearer)

    [result] = await collect_once(redis, fast)

    assert result.errors == 0 and state.served[429] <= 1
    assert await figures(redis) == expected(tweets)


async def test_the_usage_cap_is_reported_not_retried(
    redis: Redis, fast: Settings, api: tuple[fake.Search, str], bearer: str
) -> None:
    state, url = api
    fake.campaign(state, 20, TAG)
    state.faults = [fake.USAGE_CAPPED]
    await start(redis, url, bearer)

    [result] = await collect_once(redis, fast)

    assert result.errors == 1 and len(state.queries) == 1
    [health] = await sources.states(redis)
    assert health.last_error is not None
    assert health.last_error.startswith("#blacklistmois: HTTP 429: usage cap reached")


async def test_a_wrong_token_is_refused_and_recorded(
    redis: Redis,
    fast: Settings,
    api: tuple[fake.Search, str],
    bearer: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = api
    await start(redis, url, bearer)
    monkeypatch.setenv(bearer, "revoked")

    [result] = await collect_once(redis, fast)

    assert result.errors == 1
    [health] = await sources.states(redis)
    assert health.last_error == "#blacklistmois: HTTP 401: Unauthorized"
    assert "revoked" not in health.model_dump_json()


def test_x_needs_a_token() -> None:
    with pytest.raises(sources.InvalidSource, match="x needs a token: give --token-env VAR"):
        sources.make("x", None)
