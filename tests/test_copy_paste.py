"""Copy-paste clusters: the same text from at least k accounts in a window, most accounts first,
then the earliest. A window that holds every retained post reads only the keys that can rank
among those shown; it must find what reading every key finds."""

import random
from typing import cast

import orjson
import pytest
from redis.asyncio import Redis

from monitor import keys
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals import copypaste
from monitor.signals.contentkeys import Rule
from monitor.timewindow import Window
from tests import coindex
from tests.factories import T0, post
from tests.test_coordination import TAG, aggregate

EVERYTHING = Window(0, 10**13 - 1)  # times are 13-digit in the index
SHORT = "https://t.co/a"


def copies(text: str, accounts: int, at: float, key: str) -> list[Post]:
    """``text`` from ``accounts`` accounts, a second apart from ``at`` on."""
    return [
        post(f"{key}-{n}", f"{key}{n}", [TAG], text=f"{text} #{TAG}", at=at + n)
        for n in range(accounts)
    ]


def campaign() -> list[Post]:
    """Two texts from five accounts; five from four accounts (more than are shown, so their
    first posts decide), two of them starting at the same second; one from three.

    'late' is posted first with a short link that the extended rule expands: its first index
    entry holds that text under the toolkit rule only, so under the extended rule the text
    starts at 300 s, not 0 s."""
    found = [*copies("five a", 5, 200, "fa"), *copies("five b", 5, 100, "fb")]
    for n, at in enumerate([50, 60, 60, 70, 90]):
        found += copies(f"four {n}", 4, at, f"f{n}")
    found += [*copies("three", 3, 10, "th"), *copies(f"late {SHORT}", 4, 300, "lt")]
    expanded = post("lt-short", "lt-x", [TAG], text=f"late {SHORT} #{TAG}", at=0)
    return [*found, expanded.model_copy(update={"short_links": {SHORT: "https://long.example/a"}})]


def shown(found: list[copypaste.CopyPaste]) -> list[tuple[str, int, float]]:
    """Text, accounts, and the first post's second from T0."""
    return [(c.text, len(c.accounts), c.first_ms / 1000 - T0.timestamp()) for c in found]


@pytest.mark.parametrize("rule", ["extended", "toolkit"])
async def test_a_window_of_everything_ranks_as_reading_every_key(
    redis: Redis, settings: Settings, rule: Rule
) -> None:
    await aggregate(redis, settings, campaign(), batch=5)
    every = await copypaste.clusters(redis, TAG, EVERYTHING, rule, top=None)
    assert len(every) == 9
    for top in range(1, 11):
        quick = await copypaste.clusters(redis, TAG, EVERYTHING, rule, top=top, everything=True)
        read = await copypaste.clusters(redis, TAG, EVERYTHING, rule, top=top)
        assert quick == read == every[:top]


@pytest.mark.parametrize("rule", ["extended", "toolkit"])
async def test_an_index_kept_whole_by_earlier_versions_counts_beside_its_shards(
    redis: Redis, settings: Settings, rule: Rule
) -> None:
    posts = campaign()
    await aggregate(redis, settings, posts[::2], batch=5)
    await coindex.to_whole(redis, TAG)  # half the posts as an earlier version indexed them
    await aggregate(redis, settings, posts[1::2], batch=5)
    later = Window(int(T0.timestamp() * 1000) + 60_000, 10**13 - 1)
    reads = [(EVERYTHING, False), (EVERYTHING, True), (later, False)]

    async def found() -> list[list[copypaste.CopyPaste]]:
        return [
            await copypaste.clusters(redis, TAG, window, rule, top=top, everything=everything)
            for window, everything in reads for top in (None, 1, 3)
        ]  # fmt: skip

    mixed = await found()
    await coindex.to_shards(redis, TAG)
    assert mixed == await found() and len(mixed[0]) == 9 and len(mixed[-1]) < 9


async def test_a_window_reaching_past_what_the_index_orders_is_clamped(
    redis: Redis, settings: Settings
) -> None:
    await aggregate(redis, settings, campaign(), batch=5)
    found = await copypaste.clusters(redis, TAG, Window(-(10**15), 10**15), top=None)
    assert len(found) == 9 and found == await copypaste.clusters(redis, TAG, EVERYTHING, top=None)


async def test_the_first_post_under_the_rule_ranks_a_text(redis: Redis, settings: Settings) -> None:
    await aggregate(redis, settings, campaign(), batch=5)
    found = await copypaste.clusters(redis, TAG, EVERYTHING, top=8, everything=True)
    assert shown(found) == [
        (f"five b #{TAG}", 5, 100), (f"five a #{TAG}", 5, 200), (f"four 0 #{TAG}", 4, 50),
        (f"four 1 #{TAG}", 4, 60), (f"four 2 #{TAG}", 4, 60), (f"four 3 #{TAG}", 4, 70),
        (f"four 4 #{TAG}", 4, 90), (f"late {SHORT} #{TAG}", 4, 300),
    ]  # fmt: skip
    toolkit = await copypaste.clusters(redis, TAG, EVERYTHING, "toolkit", top=1, everything=True)
    assert shown(toolkit) == [(f"late {SHORT} #{TAG}", 5, 0)]  # the link as written counts


async def test_live_counts_start_at_a_texts_second_post_and_follow_retention(
    redis: Redis, settings: Settings
) -> None:
    """A text posted once is not counted; any text with two or more retained posts is, exactly
    (its distinct accounts in the index), however its posts come and go."""
    settings = settings.model_copy(update={"retention_days": 0.25})
    rng = random.Random(5)
    posts = []
    for n in range(400):  # over a day: retention lets the earlier posts go as later ones come
        shared = rng.random() < 0.4
        text = f"slogan {rng.randrange(15)}" if shared else f"only once {n}"
        posts.append(post(f"p{n}", f"a{rng.randrange(40)}", [TAG], text=f"{text} #{TAG}",
                          at=n * 216 + rng.randrange(300)))  # fmt: skip
    for start in range(0, len(posts), 80):
        chunk = posts[start : start + 80]
        rng.shuffle(chunk)
        await aggregate(redis, settings, chunk, batch=7)
        indexed = await index_counts(redis)
        scored = cast(list[tuple[bytes, float]],
                      await redis.zrange(keys.cocopies(TAG), 0, -1, withscores=True))  # fmt: skip
        counted = {key: int(n) for key, n in scored}
        for key, (posts_of_key, authors) in indexed.items():
            if posts_of_key >= 2:
                assert counted.get(key) == len(authors), key
            else:
                assert counted.get(key) in (None, 1), key
        assert set(counted) <= set(indexed)  # nothing left of texts gone
    singles = [key for key, (n, _) in indexed.items() if n == 1]
    assert len(singles) > 100 and len(counted) < len(indexed) - 100  # texts posted once: uncounted


async def index_counts(redis: Redis) -> dict[bytes, tuple[int, set[bytes]]]:
    """'<rule code>\\0<content digest>' -> its posts and their authors, read from the index."""
    found: dict[bytes, tuple[int, set[bytes]]] = {}
    for member in [m for m in await coindex.members(redis, TAG) if m.startswith(b"p\0")]:
        digest, rest = member[2:18], member[33:]
        _post, author, flags = orjson.loads(rest)
        for code in flags:
            posts, authors = found.get(code.encode() + b"\0" + digest, (0, set()))
            found[code.encode() + b"\0" + digest] = (posts + 1, authors | {author.encode()})
    return found
