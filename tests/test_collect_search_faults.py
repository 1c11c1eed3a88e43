"""The search collectors (X, Reddit, Bluesky) through the same faults: a 5xx and a dropped
connection are retried, a malformed page goes to dead letters and the next pass recovers it."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import deadletter, sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import bluesky, reddit, x
from tests.fakes.mastodon import HTML_502, UNAVAILABLE, Fault
from workers.collectors.once import collect_once

TAG = "IRGCOutOfIraq"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=8)


@dataclass
class Kit:
    """A fake platform with posts on TAG, its fault queue, and the source that reads it."""

    app: web.Application
    faults: list[Fault]
    posts: int
    source: Callable[[str], sources.Source]


def x_kit() -> Kit:
    state = x.Search()
    made = x.campaign(state, 150, TAG, start=START)
    return Kit(state.app(), state.faults, len(made),
               lambda url: sources.make("x", url, name="s", token_env="X_TOKEN"))  # fmt: skip


def reddit_kit() -> Kit:
    state = reddit.Reddit()
    made = reddit.campaign(state, 150, TAG, START)
    return Kit(state.app(), state.faults, len(made),
               lambda url: sources.make("reddit", url, name="s", token_env="REDDIT_ID",
                                        secret_env="REDDIT_SECRET"))  # fmt: skip


def bluesky_kit() -> Kit:
    state = bluesky.Search()
    for n in range(150):
        state.add(bluesky.view(f"did:plc:u{n % 7}", f"u{n % 7}.bsky.social", f"k{n}",
                               "الحرس الثوري برّا #IRGCOutOfIraq", [TAG],
                               START + timedelta(minutes=n)))  # fmt: skip
    return Kit(state.app(), state.faults, 150,
               lambda url: sources.make("bluesky-search", url, name="s", token_env="BSKY_HANDLE",
                                        secret_env="BSKY_PASSWORD"))  # fmt: skip


KITS = {"x": x_kit, "reddit": reddit_kit, "bluesky-search": bluesky_kit}


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"X_TOKEN": "bearer-secret", "REDDIT_ID": "app-id",
                        "REDDIT_SECRET": "app-secret", "BSKY_HANDLE": "campaignwatch.example.org",
                        "BSKY_PASSWORD": "abcd-efgh-ijkl-mnop"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    yield


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_backoff_s": 0.01})


TRUNCATED = Fault(200, b'{"data": [{"id": "1", "text": "cut sh')
HTML_200 = Fault(200, b"<!DOCTYPE html><html><body>Request forbidden</body></html>", "text/html")


@pytest.mark.parametrize("platform", list(KITS))
@pytest.mark.parametrize(
    "faults", [[HTML_502, UNAVAILABLE], [TRUNCATED], [HTML_200]], ids=["5xx", "truncated", "html"]
)
async def test_search_collectors_survive_faults(
    redis: Redis, fast: Settings, platform: str, faults: list[Fault]
) -> None:
    kit = KITS[platform]()
    kit.faults.extend(faults)
    await watchlist.add(redis, "default", [TAG.lower()])
    async with TestServer(kit.app, host="127.0.0.1") as server:
        await sources.add(redis, kit.source(str(server.make_url("")).rstrip("/")))
        [first] = await collect_once(redis, fast)
        malformed = faults[0].status == 200
        assert first.errors == (1 if malformed else 0)
        if malformed:
            [letter] = await deadletter.recent(redis)
            assert letter.source == "s:irgcoutofiraq" and letter.raw == faults[0].body
            [health] = await sources.states(redis)
            assert health.last_error is not None and "malformed response" in health.last_error
            [second] = await collect_once(redis, fast)
            assert second.errors == 0
    assert not kit.faults
    assert (await tag_report(redis, TAG.lower())).posts.total == kit.posts


async def test_bluesky_offsets_shifted_by_new_posts_count_each_post_once(
    redis: Redis, fast: Settings
) -> None:
    state = bluesky.Search()
    for n in range(250):
        state.add(bluesky.view("did:plc:a", "a.bsky.social", f"p{n}", "#IRGCOutOfIraq", [TAG],
                               START + timedelta(minutes=n)))  # fmt: skip
    later = START + timedelta(hours=5)
    state.arrivals = [bluesky.view("did:plc:b", "b.bsky.social", f"n{n}", "#IRGCOutOfIraq", [TAG],
                                   later + timedelta(minutes=n)) for n in range(2)]  # fmt: skip
    await watchlist.add(redis, "default", [TAG.lower()])
    async with TestServer(state.app(), host="127.0.0.1") as server:
        url = str(server.make_url("")).rstrip("/")
        await sources.add(redis, bluesky_kit().source(url))
        [first] = await collect_once(redis, fast)
        assert first.posts == 252  # each arrival pushed one post back onto the next page
        assert (await tag_report(redis, TAG.lower())).posts.total == 250
        [second] = await collect_once(redis, fast)
    assert (
        second.posts == 3
    )  # the two arrivals, and the newest of the last run (since is inclusive)
    assert (await tag_report(redis, TAG.lower())).posts.total == 252
