"""Coordination networks on hand-made cases: window edges, repeats, order, re-delivery, rules."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from fractions import Fraction
from typing import cast

import orjson
import pytest
from redis.asyncio import Redis

from monitor import keys, queue, watchlist
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals import coordination, evidence
from monitor.signals.contentkeys import (
    canonical_url,
    extended_key,
    extended_tokens,
    toolkit_tokens,
)
from monitor.signals.coordination import Node, Query
from monitor.signals.matching import INDEXES, unpack
from monitor.timewindow import Window
from tests import coindex
from tests.factories import post
from workers.aggregator import Aggregator

TAG = "irgcoutofiraq"
EVERYTHING = Window(0, 10**13)
SIMILAR = "the regime militia must leave iraq now {} #IRGCOutOfIraq"


def matching(behaviour: str, rule: str, n: int, author: str, at: float) -> Post:
    """Post n by author, matching every other post this gives for the same behaviour and rule."""
    pid = f"{behaviour}-{rule}-{n}"
    if behaviour == "co-repost":
        return post(pid, author, [TAG], kind="repost", ref="orig", ref_author="z", at=at)
    if behaviour == "co-reply":
        return post(pid, author, [TAG], kind="reply", ref="orig", ref_author="z", at=at)
    if behaviour == "co-link":
        link = "https://Example.org/a?utm_source=x#top" if n % 2 else "https://example.org/a"
        link = link if rule == "extended" else "https://example.org/a"
        return post(pid, author, [TAG], links=[link], text=f"#{TAG} see {n}", at=at)
    if behaviour == "co-similar":
        text = SIMILAR.format("forever" if n % 2 else "completely")
        return post(pid, author, [TAG], text=text, at=at)
    # co-post: the extended rule also unifies Arabic letter variants
    text = (
        "كتاب الحرس #IRGCOutOfIraq" if n % 2 and rule == "extended" else "کتاب الحرس #irgcoutofiraq"
    )
    return post(pid, author, [TAG], text=f"@someone{n} {text}", at=at)


CASES = [
    ("co-post", "extended"), ("co-post", "toolkit"), ("co-link", "extended"),
    ("co-link", "toolkit"), ("co-similar", "extended"), ("co-similar", "toolkit"),
    ("co-repost", "extended"), ("co-reply", "extended"),
]  # fmt: skip


async def aggregate(redis: Redis, settings: Settings, posts: list[Post], batch: int = 2) -> None:
    await watchlist.add(redis, "default", [TAG])
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=batch)
    await Aggregator(redis, settings, name="agg").run_until_idle()


async def weights(
    redis: Redis, behaviour: str, rule: str, window_s: int = 60
) -> dict[tuple[str, str], int]:
    query = Query(behaviour, window_s, 1, rule)  # type: ignore[arg-type]
    return (await coordination.network(redis, TAG, query, EVERYTHING)).weights


@pytest.mark.parametrize(("behaviour", "rule"), CASES)
async def test_exactly_the_window_apart_matches_and_a_millisecond_more_does_not(
    redis: Redis, settings: Settings, behaviour: str, rule: str
) -> None:
    posts = [
        matching(behaviour, rule, 1, "a", 0), matching(behaviour, rule, 2, "b", 60),
        matching(behaviour, rule, 3, "c", 1000), matching(behaviour, rule, 4, "d", 1060.001),
        matching(behaviour, rule, 5, "e", 2000), matching(behaviour, rule, 6, "f", 2061),
    ]  # fmt: skip
    await aggregate(redis, settings, posts)
    assert await weights(redis, behaviour, rule) == {("a", "b"): 1, ("b", "a"): 1}
    assert await weights(redis, behaviour, rule, window_s=59) == {}
    assert set(await weights(redis, behaviour, rule, window_s=61)) == {
        ("a", "b"), ("b", "a"), ("c", "d"), ("d", "c"), ("e", "f"), ("f", "e"),
    }  # fmt: skip


@pytest.mark.parametrize(("behaviour", "rule"), CASES)
async def test_weights_count_distinct_posts_and_ignore_order_and_redelivery(
    redis: Redis, settings: Settings, behaviour: str, rule: str
) -> None:
    posts = [
        matching(behaviour, rule, 1, "a", 0), matching(behaviour, rule, 3, "a", 10),
        matching(behaviour, rule, 2, "b", 20), matching(behaviour, rule, 5, "b", 25),
        matching(behaviour, rule, 4, "c", 200), matching(behaviour, rule, 6, "a", 230),
    ]  # fmt: skip
    await aggregate(redis, settings, list(reversed(posts)) + posts[:3])
    expected = {("a", "b"): 2, ("b", "a"): 2, ("c", "a"): 1, ("a", "c"): 1}
    assert await weights(redis, behaviour, rule) == expected
    query = Query(behaviour, 60, 2, rule)  # type: ignore[arg-type]
    found = await coordination.network(redis, TAG, query, EVERYTHING)
    assert found.edges() == [("a", "b", 2), ("b", "a", 2)]
    [cluster] = found.clusters()
    assert (cluster.members, cluster.weight, cluster.pairs, cluster.posts) == (["a", "b"], 4, 4, 4)
    assert found.nodes == {"a": Node("x", "usera"), "b": Node("x", "userb")}


@pytest.mark.parametrize(("behaviour", "rule"), CASES)
async def test_one_account_never_coordinates_with_itself(
    redis: Redis, settings: Settings, behaviour: str, rule: str
) -> None:
    posts = [matching(behaviour, rule, n, "a", n) for n in range(1, 5)]
    await aggregate(redis, settings, posts)
    assert await weights(redis, behaviour, rule) == {}


async def test_the_toolkit_rule_keeps_what_the_extended_rule_unifies(
    redis: Redis, settings: Settings
) -> None:
    posts = [
        post("1", "a", [TAG], text="كتاب #IRGCOutOfIraq", links=["https://example.org/a?utm_source=t"]),
        post("2", "b", [TAG], text="کتاب #IRGCOutOfIraq", links=["https://EXAMPLE.org/a"], at=5),
    ]  # fmt: skip
    await aggregate(redis, settings, posts)
    for behaviour in ("co-post", "co-link"):
        assert await weights(redis, behaviour, "extended") == {("a", "b"): 1, ("b", "a"): 1}
        assert await weights(redis, behaviour, "toolkit") == {}


async def test_a_pair_both_rules_give_is_kept_once(redis: Redis, settings: Settings) -> None:
    """Same text and link under both rules: one row each for co-post and co-link, in the
    extended set, which the toolkit rule reads too; a link only the extended rule unifies gives
    a row there alone, and a text both rules give with another link keeps its own."""
    link = "https://example.org/a"
    posts = [
        post("1", "a", [TAG], text=f"same #{TAG}", links=[link]),
        post("2", "b", [TAG], text=f"same #{TAG}", links=[link], at=5),
        post("3", "c", [TAG], text=f"other #{TAG}", links=[f"{link}?utm_source=t"], at=10),
    ]
    await aggregate(redis, settings, posts)
    pair = {("a", "b"): 1, ("b", "a"): 1}
    assert await weights(redis, "co-post", "toolkit") == pair
    assert await weights(redis, "co-link", "toolkit") == pair
    triangle = {(x, y): 1 for x in "abc" for y in "abc" if x != y}
    assert await weights(redis, "co-link", "extended") == triangle
    kept = await _all_pairs(redis)
    assert not kept["co-post:toolkit"] and not kept["co-link:toolkit"]
    assert len(kept["co-post:extended"]) == 1 and len(kept["co-link:extended"]) == 3
    marked = [orjson.loads(row) for row in kept["co-link:extended"]]
    assert sorted(len(row) for row in marked) == [7, 7, 8]  # a-b marked: the toolkit rule's too


async def test_co_similar_counts_each_rules_own_tokens(redis: Redis, settings: Settings) -> None:
    """The toolkit's tokens keep punctuation, the extended rule's do not (its features keep them
    as positions among the toolkit's): each rule's overlap is counted from its own."""
    texts = [
        "the regime militia, must leave iraq: now or never! #IRGCOutOfIraq",
        "the regime militia, must leave iraq: now or indefinitely? #IRGCOutOfIraq",
    ]
    posts = [post(str(n), author, [TAG], text=text, at=n)
             for n, (author, text) in enumerate(zip("ab", texts, strict=True))]  # fmt: skip
    await aggregate(redis, settings, posts)
    found = {}
    for rule in ("toolkit", "extended"):
        query = Query("co-similar", 60, 1, rule, Fraction(4, 5))
        pairs = await coordination.matching_pairs(redis, TAG, query, EVERYTHING)
        found[rule] = [(pair.shared, pair.union) for pair in pairs]
    first, second = (extended_tokens(extended_key(text, {})) for text in texts)
    assert found["extended"] == [(len(first & second), len(first | second))] == [(9, 11)]
    one, two = (toolkit_tokens(text) for text in texts)
    assert found["toolkit"] == [] and len(one & two) / len(one | two) < 0.8  # '!' against '?'


async def test_similarity_threshold_applies_at_query_time(redis: Redis, settings: Settings) -> None:
    # 9 shared tokens of 11: Jaccard 0.818
    posts = [matching("co-similar", "toolkit", n, author, n) for n, author in ((1, "a"), (2, "b"))]
    await aggregate(redis, settings, posts)
    for tau, expected in ((Fraction(4, 5), 1), (Fraction(9, 11), 1), (Fraction(82, 100), 0)):
        query = Query("co-similar", 60, 1, "toolkit", tau)
        assert (
            len((await coordination.network(redis, TAG, query, EVERYTHING)).weights) == 2 * expected
        )


async def test_short_posts_are_similar_to_nothing(redis: Redis, settings: Settings) -> None:
    posts = [post(str(n), author, [TAG], text="free iraq #IRGCOutOfIraq", at=n)
             for n, author in enumerate("abc")]  # fmt: skip
    await aggregate(redis, settings, posts)
    assert await weights(redis, "co-similar", "extended") == {}
    assert len(await weights(redis, "co-post", "extended")) == 6


async def test_evidence_lists_each_matching_pair_with_what_it_shares(
    redis: Redis, settings: Settings
) -> None:
    posts = [
        post("1", "a", [TAG], text="Leave now @x #IRGCOutOfIraq", at=0),
        post("2", "b", [TAG], text="leave   NOW #irgcoutofiraq", at=12.5),
        post("3", "a", [TAG], text="something else #IRGCOutOfIraq", at=20),
        post("4", "c", [TAG], text="leave now #IRGCOutOfIraq", at=14),
    ]
    await aggregate(redis, settings, posts)
    query = Query("co-post", 60, 1, "toolkit")
    found = await evidence.between(redis, TAG, query, EVERYTHING, "b", "a")
    assert [(e.first.key, e.second.key, e.dt_ms, e.shared) for e in found] == [
        ("x:1", "x:2", 12_500, "leave now #irgcoutofiraq")
    ]


async def test_retention_drops_pairs_and_index_entries_with_their_posts(
    redis: Redis, settings: Settings
) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    old = [matching("co-post", "extended", n, author, n) for n, author in ((1, "a"), (2, "b"))]
    await aggregate(redis, settings, old)
    assert await weights(redis, "co-post", "extended")
    later = post("9", "c", [TAG], at=timedelta(days=2).total_seconds())
    await aggregate(redis, settings, [later])
    assert await weights(redis, "co-post", "extended") == {}
    assert len(await coindex.features(redis, TAG)) == 1
    index = await coindex.members(redis, TAG)
    assert index and all(b"x:9" in member for member in index)


async def triangle_across_layouts(
    redis: Redis,
    settings: Settings,
    behaviour: str,
    rule: str,
    to_earlier: Callable[[], Awaitable[object]],
) -> None:
    """Two posts kept as earlier versions kept them (``to_earlier``), a third by this one: all
    three pair."""
    earlier = [matching(behaviour, rule, n, author, n) for n, author in ((1, "a"), (2, "b"))]
    await aggregate(redis, settings, earlier)
    await to_earlier()
    await aggregate(redis, settings, [matching(behaviour, rule, 3, "c", 3)])
    pairs = {("a", "b"), ("a", "c"), ("b", "c")}
    assert await weights(redis, behaviour, rule) == {
        edge: 1 for x, y in pairs for edge in ((x, y), (y, x))
    }


async def only_a_newer_post_left(redis: Redis, settings: Settings) -> None:
    """A post two days later: with a day's retention, the index holds it alone."""
    await aggregate(redis, settings, [post("9", "d", [TAG], at=timedelta(days=2).total_seconds())])
    index = await coindex.members(redis, TAG)
    assert index and all(b"x:9" in member for member in index)


@pytest.mark.parametrize(("behaviour", "rule"), CASES)
async def test_an_index_kept_whole_by_earlier_versions_is_read_until_retention_empties_it(
    redis: Redis, settings: Settings, behaviour: str, rule: str
) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    await triangle_across_layouts(
        redis, settings, behaviour, rule, lambda: coindex.to_whole(redis, TAG)
    )
    assert await redis.zcard(keys.coindex(TAG)) > 0
    await only_a_newer_post_left(redis, settings)
    assert not await redis.exists(keys.coindex(TAG))


@pytest.mark.parametrize(("behaviour", "rule"), CASES)
async def test_features_kept_whole_as_json_by_earlier_versions_are_read_until_retention_drops_them(
    redis: Redis, settings: Settings, behaviour: str, rule: str
) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    await triangle_across_layouts(
        redis, settings, behaviour, rule, lambda: coindex.features_to_earlier(redis, TAG)
    )
    query = Query(behaviour, 60, 1, rule)  # type: ignore[arg-type]
    found = await evidence.between(redis, TAG, query, EVERYTHING, "a", "b")
    assert [(e.first.key, e.second.key) for e in found] == [
        (f"x:{behaviour}-{rule}-1", f"x:{behaviour}-{rule}-2")
    ]
    await only_a_newer_post_left(redis, settings)
    assert list(await coindex.features(redis, TAG)) == [b"x:9"]
    assert not await redis.exists(keys.cofeatures(TAG))


@pytest.mark.parametrize("order", ["forward", "backward"])
async def test_a_repost_storm_is_counted_not_paired_whatever_the_order(
    redis: Redis, settings: Settings, order: str
) -> None:
    """Buckets are 300 s: the storm's 5 posts in [0, 300) are too many for a cap of 3; the two
    calm buckets before and after still pair with each other, not with the storm."""
    settings = settings.model_copy(update={"coordination_max_matches": 3})
    times = {"calm1": -10, "calm2": -5, **{f"storm{n}": 250 + n for n in range(5)}, "late": 310}
    posts = [
        matching("co-repost", "extended", n, who, at) for n, (who, at) in enumerate(times.items())
    ]
    await aggregate(redis, settings, posts if order == "forward" else posts[::-1])
    query = Query("co-repost", 300, 1)
    found = await coordination.network(redis, TAG, query, EVERYTHING)
    assert found.unpaired == 5
    assert found.weights == {("calm1", "calm2"): 1, ("calm2", "calm1"): 1}


@pytest.mark.parametrize(("order", "batch"), [("forward", 2), ("backward", 2), ("forward", 10)])
async def test_a_viral_token_does_not_hide_a_pair_another_token_finds(
    redis: Redis, settings: Settings, order: str, batch: int
) -> None:
    """Prefixes are the longest tokens: the pair shares three, and the first turns viral."""
    settings = settings.model_copy(update={"coordination_max_matches": 3})
    text = "aaaaaaaaaaaa1 aaaaaaaaaaa2 aaaaaaaaaa3 b c d e f g h"
    pair = [post("p", "a", [TAG], text=text, at=10), post("q", "b", [TAG], text=text, at=20)]
    crowd = [post(f"v{n}", f"v{n}", [TAG], text=f"aaaaaaaaaaaa1 u{n}a u{n}b u{n}c u{n}d", at=30 + n)
             for n in range(4)]  # fmt: skip
    posts = pair + crowd
    await aggregate(redis, settings, posts if order == "forward" else posts[::-1], batch)
    assert await redis.xlen(keys.DEADLETTER) == 0
    for rule in ("toolkit", "extended"):
        assert await weights(redis, "co-similar", rule) == {("a", "b"): 1, ("b", "a"): 1}


async def _all_pairs(redis: Redis) -> dict[str, set[bytes]]:
    kept = [cast(list[bytes], await redis.zrange(keys.copairs(TAG, i), 0, -1)) for i in INDEXES]
    return {index: set(members) for index, members in zip(INDEXES, kept, strict=True)}


async def test_aggregators_applying_one_tag_at_once_find_every_pair(
    redis: Redis, settings: Settings
) -> None:
    """An aggregator reads the index after its posts are in it, so of two matching posts applied
    at once by two aggregators the later indexed finds the other: four aggregators taking small
    batches of one tag in turn keep exactly the pairs one aggregator keeps."""
    from tests.test_toolkit_agreement import generated  # it imports this module

    posts = generated(seed=7)
    await aggregate(redis, settings, posts, batch=3)
    alone = await _all_pairs(redis)
    every = [members for index, members in alone.items() if not index.endswith(":toolkit")]
    assert all(every)  # every behaviour has pairs to find (the toolkit rule's are mostly marked)
    await redis.flushdb()
    await watchlist.add(redis, "default", [TAG])
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=3)
    small = settings.model_copy(update={"read_count": 1})
    workers = [Aggregator(redis, small, name=f"agg{n}") for n in range(4)]
    await asyncio.gather(*(worker.run_until_idle() for worker in workers))
    assert await _all_pairs(redis) == alone


async def test_evidence_takes_links_and_texts_from_the_post_store(
    redis: Redis, settings: Settings
) -> None:
    """A tag's features keep no texts or links: evidence reads them from the post's words."""
    posts = [matching("co-link", "extended", n, author, n) for n, author in ((1, "a"), (2, "b"))]
    await aggregate(redis, settings, posts)
    stored = [unpack(raw) for raw in (await coindex.features(redis, TAG)).values()]
    assert stored and all("k" not in f and "l" not in f for f in stored)
    query = Query("co-link", 60, 1, "extended")
    found = await evidence.between(redis, TAG, query, EVERYTHING, "a", "b")
    assert [(e.first.key, e.second.key, e.shared) for e in found] == [
        ("x:co-link-extended-1", "x:co-link-extended-2", canonical_url("https://example.org/a"))
    ]
