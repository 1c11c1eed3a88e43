"""RSS and Atom feeds against a fake server: conditional fetches, Atom paging, bad documents."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from monitor import deadletter, sources, watchlist
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.fakes import feeds as fake
from tests.fakes.mastodon import HTML_502, Fault
from workers.collectors.once import collect_once

NOW = datetime.now(UTC).replace(microsecond=0)
HASHTAG = (
    '<a href="https://mastodon.example/tags/{0}" class="mention hashtag" rel="tag">'
    "#<span>{0}</span></a>"
)


def toot(user: str, n: int, text: str, tags: list[str], minutes_ago: int) -> fake.Item:
    link = f"https://mastodon.example/@{user}/1032119418573367{n:02d}"
    anchors = " ".join(HASHTAG.format(t) for t in tags)
    return fake.Item(link, link, NOW - timedelta(minutes=minutes_ago),
                     f"<p>{text} {anchors}</p>", tags)  # fmt: skip


def entry(n: int, tags: list[str]) -> fake.Item:
    at = NOW - timedelta(hours=n)
    link = f"https://news.example.org/{n}"
    return fake.Item(f"tag:news.example.org,2019:post-{n}", link, at, f"<p>Report {n}</p>", tags,
                     title=f"Day {n}")  # fmt: skip


@pytest.fixture
def fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_backoff_s": 0.01})


@pytest.fixture
async def served() -> AsyncIterator[tuple[fake.Feeds, str]]:
    state = fake.Feeds()
    async with TestServer(state.app(), host="127.0.0.1") as server:
        yield state, str(server.make_url("")).rstrip("/")


async def start(redis: Redis, url: str) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    await sources.add(redis, sources.make("rss", url, name="feed"))


async def test_a_mastodon_tag_feed_is_read_once_then_only_when_it_changes(
    redis: Redis, fast: Settings, served: tuple[fake.Feeds, str]
) -> None:
    state, base = served
    state.rss = [
        toot("nika", 1, "سپاه پاسداران باید از عراق بیرون برود", ["IRGCOutOfIraq", "Iran"], 5),
        toot("iraqi_voice", 2, "إيران برّا برّا، بغداد تبقى حرّة", ["IRGCOutOfIraq"], 9),
        toot("nika", 3, "قال الناس", ["Iraq"], 12),  # not watched
    ]
    await start(redis, f"{base}/tags/IRGCOutOfIraq.rss")

    [first] = await collect_once(redis, fast)
    assert (first.posts, first.errors) == (3, 0)
    report = await tag_report(redis, "irgcoutofiraq")
    assert (report.posts.total, report.people, report.platforms) == (2, 2, {"rss": 2})
    assert {a.id for a in report.top_accounts} == {
        "https://mastodon.example/@nika", "https://mastodon.example/@iraqi_voice",
    }  # fmt: skip

    [unchanged] = await collect_once(redis, fast)
    assert unchanged.posts == 0 and state.served[304] == 1 and state.conditional == 1

    state.rss.insert(0, toot("omar", 4, "#IRGCOutOfIraq written in the text only", [], 1))
    [changed] = await collect_once(redis, fast)
    assert changed.posts == 4  # the whole feed again: its old items are duplicates
    assert (await tag_report(redis, "irgcoutofiraq")).posts.total == 3


async def test_an_atom_feed_is_followed_back_through_its_pages(
    redis: Redis, fast: Settings, served: tuple[fake.Feeds, str]
) -> None:
    state, base = served
    state.atom_pages = [
        [entry(1, ["IRGCOutOfIraq"]), entry(2, ["Iran"])],
        [entry(2, ["Iran", "IRGCOutOfIraq"]), entry(3, ["IRGCOutOfIraq"])],  # 2 again, updated
        [entry(4, ["IRGCOutOfIraq", "BlackListMOIS"])],
    ]
    await start(redis, f"{base}/feed.atom")

    [result] = await collect_once(redis, fast)

    assert (result.posts, result.errors) == (5, 0)
    report = await tag_report(redis, "irgcoutofiraq")
    assert report.posts.total == 4  # 1, 2 (as updated), 3, 4
    assert state.served[200] == 3
    [again] = await collect_once(redis, fast)
    assert again.posts == 0 and state.served[200] == 3  # backfilled: only the first page, a 304


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(200, b'<?xml version="1.0"?><rss version="2.0"><channel><item><guid>'),
                     id="truncated"),
        pytest.param(Fault(200, b"<!DOCTYPE html><html><body>Maintenance</body></html>",
                           "text/html"), id="html-with-200"),
    ],
)  # fmt: skip
async def test_a_bad_document_goes_to_dead_letters_and_the_next_pass_recovers(
    redis: Redis, fast: Settings, served: tuple[fake.Feeds, str], fault: Fault
) -> None:
    state, base = served
    state.rss = [toot("nika", 1, "text", ["IRGCOutOfIraq"], 5)]
    state.faults = [fault]
    await start(redis, f"{base}/tags/IRGCOutOfIraq.rss")

    [broken] = await collect_once(redis, fast)
    assert (broken.posts, broken.errors) == (0, 1)
    [letter] = await deadletter.recent(redis)
    assert letter.source == "feed"
    assert letter.reason.startswith("malformed response: not a readable feed")
    [health] = await sources.states(redis)
    assert health.last_error is not None and health.last_error.startswith("malformed response")

    [healed] = await collect_once(redis, fast)
    assert (healed.posts, healed.errors) == (1, 0)


async def test_retry_after_as_a_date_and_an_html_502_are_waited_out(
    redis: Redis, fast: Settings, served: tuple[fake.Feeds, str]
) -> None:
    state, base = served
    state.rss = [toot("nika", 1, "text", ["IRGCOutOfIraq"], 5)]
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
    state.faults = [Fault(429, b"Too Many Requests", "text/plain", headers={"Retry-After": soon}),
                    HTML_502]  # fmt: skip
    await start(redis, f"{base}/tags/IRGCOutOfIraq.rss")

    [result] = await collect_once(redis, fast)

    assert (result.posts, result.errors) == (1, 0) and not state.faults
