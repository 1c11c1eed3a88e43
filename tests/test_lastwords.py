"""The tag words a tag's co-similar prefix order puts last: every tag watched when its first
post comes, fixed from then on."""

import orjson
from redis.asyncio import Redis

from monitor import keys, queue, watchlist
from monitor.models import Post
from monitor.settings import Settings
from monitor.signals import coordination
from monitor.signals.contentkeys import digest
from monitor.signals.coordination import Query
from tests import coindex
from tests.factories import post
from tests.test_coordination import EVERYTHING
from workers.aggregator import Aggregator

IRGC, MOIS, THIRD = "irgcoutofiraq", "blacklistmois", "irgcterrorists"
TEXT = "the regime militia must leave iraq now {} #IRGCOutOfIraq #BlackListMOIS"


def similar(n: int) -> Post:
    """Posts 0, 1, 2 by accounts a0, a1, a2: one word apart, similar under both rules."""
    word = ("forever", "completely", "entirely")[n]
    return post(f"s{n}", f"a{n}", [IRGC, MOIS], text=TEXT.format(word), at=n)


async def run(redis: Redis, settings: Settings, posts: list[Post], watched: list[str]) -> None:
    await watchlist.add(redis, "default", watched)
    await queue.ensure_group(redis)
    await queue.publish(redis, posts, batch=2)
    await Aggregator(redis, settings, name="agg").run_until_idle()


async def order(redis: Redis, tag: str) -> list[str]:
    return list(orjson.loads(await redis.get(keys.coorder(tag)) or b"null") or [])


async def prefix_digests(redis: Redis, tag: str) -> set[bytes]:
    return {m.split(b"\0")[1] for m in await coindex.members(redis, tag) if m.startswith(b"s\0")}


async def test_no_watched_tags_word_is_a_prefix_token_and_similar_posts_still_pair(
    redis: Redis, settings: Settings
) -> None:
    await run(redis, settings, [similar(n) for n in range(3)], [IRGC, MOIS])
    words = {digest(IRGC).encode(), digest(MOIS).encode()}
    for tag in (IRGC, MOIS):
        assert await order(redis, tag) == [MOIS, IRGC]
        found = await prefix_digests(redis, tag)
        assert found and not found & words
        network = await coordination.network(redis, tag, Query("co-similar", 60, 1), EVERYTHING)
        assert {tuple(sorted(edge)) for edge in network.weights} == {
            ("a0", "a1"), ("a0", "a2"), ("a1", "a2")
        }  # fmt: skip


async def test_a_tags_order_is_fixed_at_its_first_post_and_older_tags_keep_their_own_word_last(
    redis: Redis, settings: Settings
) -> None:
    await run(redis, settings, [similar(0)], [IRGC])
    assert await order(redis, IRGC) == [IRGC]
    await run(redis, settings, [similar(1)], [IRGC, MOIS])  # a tag watched later
    assert await order(redis, IRGC) == [IRGC] and await order(redis, MOIS) == [MOIS, IRGC]
    # its first order stays: the other tag's word, longest, heads the later post's prefix there
    assert digest(MOIS).encode() in await prefix_digests(redis, IRGC)
    assert digest(MOIS).encode() not in await prefix_digests(redis, MOIS)
    await redis.delete(keys.coorder(MOIS))  # as a tag with posts from before orders were kept
    await run(redis, settings, [similar(2)], [IRGC, MOIS, THIRD])
    assert await order(redis, MOIS) == [MOIS]
