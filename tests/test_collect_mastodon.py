"""The Mastodon collector against a fake instance speaking the real wire format, end to end
through the ingest stream and the aggregator into reports."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import deadletter, keys, sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import mastodon as fake
from workers.collectors.collector import Collector
from workers.collectors.once import collect_once
from workers.oneshot import aggregating

TAG = "IRGCOutOfIraq"
Json = fake.Json


@pytest.fixture
def fast(settings: Settings) -> Settings:
    """Retries and backfill sized for tests; the real defaults wait seconds."""
    return settings.model_copy(
        update={"http_backoff_s": 0.01, "backfill_pages": 100, "poll_interval_s": 0.05}
    )


@pytest.fixture
async def instance() -> AsyncIterator[tuple[fake.Instance, str]]:
    state = fake.Instance()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


async def add_source(redis: Redis, url: str, name: str = "home", rate: str | None = None) -> None:
    await sources.add(redis, sources.make("mastodon", url, name=name, rate=rate))


def expected(statuses: list[Json]) -> tuple[int, int, Counter[str]]:
    """Posts, people and kinds, counted from the statuses themselves (by federation uri)."""
    by_uri = {s["uri"]: s for s in statuses}
    people = {s["account"]["uri"] for s in by_uri.values()}
    kinds = Counter(
        "reply" if s["in_reply_to_id"] else "quote" if s["quote"] else "original"
        for s in by_uri.values()
    )
    return len(by_uri), len(people), kinds


async def figures(redis: Redis, tag: str = TAG) -> tuple[int, int, Counter[str]]:
    report = await tag_report(redis, tag.lower())
    posts = report.posts
    kinds = Counter(
        {
            k: getattr(posts, k)
            for k in ("original", "repost", "quote", "reply")
            if getattr(posts, k)
        }
    )
    return posts.total, report.people, kinds


async def test_backfill_then_poll_collects_every_status_once(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    state.repeat_last = True  # each older page repeats one status of the page before
    statuses = fake.campaign(130, TAG)
    for status in statuses:
        state.add(status)
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url)

    [first] = await collect_once(redis, fast)
    assert (first.posts, first.errors) == (130 + 3, 0)  # 4 pages, 3 of them repeat one status
    assert await figures(redis) == expected(statuses)

    newer = fake.campaign(45, TAG, start=datetime.now(UTC) + timedelta(minutes=1))
    for status in newer:
        state.add(status)
    state.requests.clear()
    [second] = await collect_once(redis, fast)
    assert second.posts == 45
    assert all("min_id=" in r for r in state.requests if "/timelines/" in r)
    assert (await figures(redis))[0] == 175


async def test_replies_and_quotes_count_toward_the_post_they_answer(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    now = datetime.now(UTC) - timedelta(minutes=10)
    nika, ali, sara = (
        fake.Author(n, n, local_id=str(i)) for i, n in enumerate(["nika", "ali", "sara"])
    )
    root = state.add(fake.status(nika, "root", [TAG], at=now, sequence=1, lang="fa"))
    state.add(
        fake.status(ali, "reply", [TAG], at=now + timedelta(seconds=5), sequence=2, reply_to=root)
    )
    state.add(
        fake.status(sara, "quote", [TAG], at=now + timedelta(seconds=9), sequence=3, quote_of=root)
    )
    state.add(
        fake.status(
            nika, "self reply", [TAG], at=now + timedelta(seconds=12), sequence=4, reply_to=root
        )
    )
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url)

    await collect_once(redis, fast)

    report = await tag_report(redis, TAG.lower())
    assert (report.posts.reply, report.posts.quote, report.people) == (2, 1, 3)
    top = {p.id: p.people_talking for p in report.top_posts}
    assert top[root["uri"]] == 2  # ali and sara; nika's own reply is not "people talking"


async def test_the_same_status_on_two_instances_counts_once(redis: Redis, fast: Settings) -> None:
    home, other = fake.Instance(), fake.Instance(host="toot.example.net")
    at = datetime.now(UTC) - timedelta(minutes=5)
    nika = fake.Author("nika", "Nika")
    original = fake.status(nika, "once", [TAG], at=at, sequence=1)
    copy = fake.status(
        nika, "once", [TAG], at=at, sequence=99, instance="toot.example.net", uri_id=original["id"]
    )
    assert copy["id"] != original["id"] and copy["uri"] == original["uri"]
    home.add(original)
    other.add(copy)
    async with (
        TestServer(home.app(), host="127.0.0.1") as a,
        TestServer(other.app(), host="127.0.0.1") as b,
    ):
        await watchlist.add(redis, "default", [TAG.lower()])
        await add_source(redis, str(a.make_url("")), name="home")
        await add_source(redis, str(b.make_url("")), name="other")
        results = await collect_once(redis, fast)
    assert sorted(r.posts for r in results) == [1, 1]
    assert (await figures(redis))[:2] == (1, 1)


async def test_a_window_used_up_is_waited_out_not_hammered(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    state.limit, state.window_s = 4, 0.5
    statuses = fake.campaign(400, TAG, replies=False)  # 10 pages, plus the final empty one
    for status in statuses:
        state.add(status)
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url)

    [result] = await collect_once(redis, fast)

    assert result.errors == 0 and state.served[429] <= 1
    assert state.served[200] >= 11
    assert await figures(redis) == expected(statuses)


async def test_the_throttle_keeps_a_silent_server_under_its_limit(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    """A server that says nothing until it refuses: the source's --rate keeps requests under."""
    state, url = instance
    state.limit, state.window_s, state.send_remaining = 3, 0.5, False
    statuses = fake.campaign(240, TAG, replies=False)
    for status in statuses:
        state.add(status)
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url, rate="3/1")  # one window of slack for the fixed-window edges

    [result] = await collect_once(redis, fast)

    assert result.errors == 0 and state.served[429] <= 1
    assert await figures(redis) == expected(statuses)


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([fake.HTML_502, fake.UNAVAILABLE], id="502-html-then-503"),
        pytest.param([fake.RESET, fake.RESET], id="connection-reset"),
        pytest.param([fake.HANG, fake.HANG], id="hangs-past-the-timeout"),
        pytest.param([fake.THROTTLED] * 4, id="429-storm"),
    ],
)
async def test_transient_failures_are_retried(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str], faults: list[fake.Fault]
) -> None:
    state, url = instance
    statuses = fake.campaign(90, TAG)
    for status in statuses:
        state.add(status)
    state.faults = list(faults)
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url)

    [result] = await collect_once(redis, fast.model_copy(update={"http_timeout_s": 0.5}))

    assert result.errors == 0 and not state.faults
    assert await figures(redis) == expected(statuses)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(lambda page: fake.truncated(page), id="truncated"),
        pytest.param(lambda page: fake.HTML_200, id="html-with-200"),
    ],
)
async def test_a_malformed_page_goes_to_dead_letters_and_the_next_pass_recovers(
    redis: Redis,
    fast: Settings,
    instance: tuple[fake.Instance, str],
    fault: Callable[[bytes], fake.Fault],
) -> None:
    state, url = instance
    statuses = fake.campaign(60, TAG)
    for status in statuses:
        state.add(status)
    state.faults = [fault(orjson.dumps(statuses[-40:][::-1]))]
    await watchlist.add(redis, "default", [TAG.lower()])
    await add_source(redis, url)

    [broken] = await collect_once(redis, fast)
    assert (broken.posts, broken.errors) == (0, 1)
    [letter] = await deadletter.recent(redis)
    assert letter.source == f"home:{TAG.lower()}" and "instead of a JSON body" in letter.reason
    [health] = await sources.states(redis)
    assert health.last_error is not None and "malformed response" in health.last_error
    assert health.cursors == {}  # nothing published, nothing advanced

    [healed] = await collect_once(redis, fast)
    assert (healed.posts, healed.errors) == (60, 0)
    assert await figures(redis) == expected(statuses)


async def test_a_refused_token_is_recorded_and_other_tags_go_on(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    for status in fake.campaign(10, "BlackListMOIS"):
        state.add(status)
    state.faults = [fake.UNAUTHORIZED]  # the first tag asked (blacklistmois, in order) is refused
    await watchlist.add(redis, "default", ["blacklistmois", TAG.lower()])
    await add_source(redis, url)

    [result] = await collect_once(redis, fast)

    assert result.errors == 1
    [health] = await sources.states(redis)
    assert health.last_error == "#blacklistmois: HTTP 401: The access token is invalid"
    assert set(health.cursors) == {TAG.lower()}  # the other tag was still collected (empty)


async def test_a_tag_added_while_running_is_collected_without_a_restart(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    for status in fake.campaign(30, "BlackListMOIS"):
        state.add(status)
    await add_source(redis, url)
    await watchlist.add(redis, "default", [TAG.lower()])
    collector = Collector(redis, fast, name="live")
    async with aggregating(redis, fast, "live-aggregator"):
        running = asyncio.create_task(collector.run())
        await asyncio.sleep(0.2)
        await watchlist.add(redis, "default", ["blacklistmois"])
        for _ in range(200):
            if await redis.zcard(keys.timeline("blacklistmois")) == 30:
                break
            await asyncio.sleep(0.05)
        collector.stopping.set()
        await running
        await collector.close()
    assert (await figures(redis, "blacklistmois"))[0] == 30


async def test_with_a_token_the_hashtag_streams_are_followed_live(
    redis: Redis, fast: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One socket, one subscription per watched tag, kept in step with the watchlists; a reply
    from the stream is linked to its parent as a polled one is."""
    monkeypatch.setenv("KOLEKTIVA_TOKEN", "user-token")
    state = fake.Instance(token="user-token")
    nika, ali = fake.Author("nika", "Nika", local_id="1"), fake.Author("ali", "Ali", local_id="2")
    now = datetime.now(UTC)
    root = state.add(fake.status(nika, "root", [TAG], at=now - timedelta(minutes=5), sequence=1))
    live = fast.model_copy(update={"poll_interval_s": 3600.0, "stream_flush_s": 0.05})
    async with TestServer(state.app(), host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        await watchlist.add(redis, "default", [TAG.lower()])
        await sources.add(redis, sources.make("mastodon", url, name="home",
                                              token_env="KOLEKTIVA_TOKEN"))  # fmt: skip
        collector = Collector(redis, live, name="live")
        async with aggregating(redis, live, "live-aggregator"):
            running = asyncio.create_task(collector.run())
            await _until(lambda: bool(state._listeners and any(state._listeners.values())))
            reply = fake.status(ali, "reply", [TAG], at=now, sequence=2, reply_to=root)
            assert await state.push(reply) == 1
            await watchlist.add(redis, "default", ["blacklistmois"])
            await _until(lambda: any("blacklistmois" in t for t in state._listeners.values()))
            await watchlist.remove(redis, "default", [TAG.lower()])
            await _until(lambda: not any(TAG.lower() in t for t in state._listeners.values()))
            await state.push(fake.status(ali, "new", ["BlackListMOIS"], at=now, sequence=3))
            for _ in range(200):
                if await redis.zcard(keys.timeline("blacklistmois")):
                    break
                await asyncio.sleep(0.02)
            collector.stopping.set()
            await running
            await collector.close()

    report = await tag_report(redis, TAG.lower())
    assert (report.posts.total, report.posts.reply) == (2, 1)  # the polled root, the streamed reply
    assert {p.id: p.people_talking for p in report.top_posts}[root["uri"]] == 1
    assert (await figures(redis, "blacklistmois"))[0] == 1
    assert [m["type"] for m in state.stream_messages] == ["subscribe", "subscribe", "unsubscribe"]


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_an_unreadable_cursor_is_reported_and_other_tags_go_on(
    redis: Redis, fast: Settings, instance: tuple[fake.Instance, str]
) -> None:
    state, url = instance
    statuses = fake.campaign(5, TAG)
    for status in statuses:
        state.add(status)
    await watchlist.add(redis, "default", ["blacklistmois", TAG.lower()])
    await add_source(redis, url)
    await redis.hset(keys.cursors("home"), "blacklistmois", '{"newest": [1, 2]}')

    [result] = await collect_once(redis, fast)

    assert (result.posts, result.errors) == (5, 1)
    [health] = await sources.states(redis)
    assert health.last_error is not None
    assert health.last_error.startswith("#blacklistmois: unreadable cursor")


async def test_a_server_that_ignores_min_id_does_not_loop_the_collector(
    redis: Redis, fast: Settings
) -> None:
    """An instance (or a cache in front of it) answering every poll with the same page: the
    pass ends after one page that brings nothing newer, and nothing is counted twice."""
    state = fake.Instance()
    for status in fake.campaign(10, TAG, replies=False):
        state.add(status)

    async def same_page(request: web.Request) -> web.Response:
        state.requests.append(request.path_qs)
        return web.json_response(state.statuses[TAG.lower()])

    stale = web.Application()
    stale.router.add_get("/api/v1/timelines/tag/{tag}", same_page)
    await watchlist.add(redis, "default", [TAG.lower()])
    async with TestServer(stale, host="127.0.0.1") as server:
        await add_source(redis, str(server.make_url("")).rstrip("/"))
        await collect_once(redis, fast)
        state.requests.clear()
        [again] = await asyncio.wait_for(collect_once(redis, fast), timeout=30)
    assert again.errors == 0 and len(state.requests) == 1
    assert "min_id=" in state.requests[0]
    assert (await figures(redis))[0] == 10
