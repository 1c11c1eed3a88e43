"""Our live networks under --text-rule toolkit equal the Coordination Network Toolkit's batch ones.

The same generated posts go through our real pipeline (queue, aggregator, apply script) and
through the Toolkit's own preprocess and compute functions (PyPI coordination-network-toolkit);
the directed edge lists, loops left out as the Toolkit's export does, must be identical.
"""

import random
from datetime import timedelta
from pathlib import Path

import pytest
from coordination_network_toolkit import compute_networks as toolkit
from coordination_network_toolkit.graph import get_edge_rows
from coordination_network_toolkit.preprocess import preprocess_data
from coordination_network_toolkit.similarity import MinDocSizeSimilarity
from redis.asyncio import Redis

from monitor.models import Kind, Post
from monitor.settings import Settings
from monitor.signals import coordination
from monitor.signals.coordination import Query
from monitor.timewindow import Window
from tests.factories import T0, post
from tests.test_coordination import TAG, aggregate

PHRASES = [
    "Leave Iraq now", "leave iraq NOW", "The militia must go home today please",
    "the militia must go home today at once", "ما شعب العراق نرفض التدخل",
    "Free   Iraq, free people!", "free iraq, free people!", "Stop the killings in Baghdad tonight",
]  # fmt: skip
KINDS: list[Kind] = [
    "original",
    "original",
    "original",
    "original",
    "original",
    "repost",
    "reply",
    "reply",
]
LINKS = ["https://example.org/a", "https://example.org/b", "https://news.example/c?id=1"]


def generated(seed: int, n: int = 900) -> list[Post]:
    """Accounts posting from small pools of texts, links and targets, on half-second steps, with
    cells of accounts planted to act together, so that every behaviour has edges at the edges."""
    rng = random.Random(seed)
    accounts = [f"{1000 + k}" for k in range(30)]
    posts = []
    for n_post in range(n):
        author = rng.choice(accounts[:8] if n_post % 3 == 0 else accounts)  # a busy cell
        at = rng.randrange(0, 2 * 3600 * 2) / 2
        kind: Kind = rng.choice(KINDS)
        if n_post % 3 == 0:  # the cell acts in rounds, some posts exactly a window apart
            rounds = n_post // 30
            at = rounds * 60.0 + rng.choice([0, 0.5, 29.5, 30])
            kind = ("original", "repost", "reply", "original")[rounds % 4]
        pid = str(10_000 + n_post)
        if kind == "repost":
            shared = rng.choice(["1", "2", "3"])
            posts.append(post(pid, author, [TAG], kind=kind, ref=shared, ref_author="9", at=at))
            continue
        mention = rng.choice(["", "@someone ", "@Other_1 "])
        text = f"{mention}{rng.choice(PHRASES)} {rng.choice(['#IRGCOutOfIraq', '#irgcoutofiraq'])}"
        links = rng.sample(LINKS, rng.choice([0, 0, 1, 2]))
        ref = rng.choice(["4", "5"]) if kind == "reply" else None
        posts.append(post(pid, author, [TAG], kind=kind, ref=ref, ref_author="9" if ref else None,
                          at=at, text=text, links=links))  # fmt: skip
    return posts


def toolkit_edges(
    tmp: Path, posts: list[Post], network: str, window: int, weight: int
) -> set[tuple[str, str, int]]:
    db = str(tmp / f"{network}-{window}.db")
    rows = [
        (p.id, p.author_id, p.author_handle, p.referenced_id if p.kind == "repost" else None,
         p.referenced_id if p.kind == "reply" else None, p.text,
         (p.created_at - T0 + timedelta(days=1)).total_seconds(), p.links)
        for p in posts
    ]  # fmt: skip
    preprocess_data(db, rows)
    if network == "co_similar_tweet":
        toolkit.compute_co_similar_tweet(
            db, window, n_threads=1, similarity_threshold=0.8, min_edge_weight=weight,
            similarity_function=MinDocSizeSimilarity(5),
        )  # fmt: skip
    else:
        compute = {
            "co_tweet": toolkit.compute_co_tweet_network,
            "co_retweet": toolkit.compute_co_retweet_parallel,
            "co_reply": toolkit.compute_co_reply_network,
            "co_link": toolkit.compute_co_link_network,
        }[network]
        compute(db, window, min_edge_weight=weight, n_threads=1)
    return {(str(a), str(b), int(w)) for a, b, w, _ in get_edge_rows(db, network)}


NETWORKS = [("co-post", "co_tweet"), ("co-repost", "co_retweet"), ("co-reply", "co_reply"),
            ("co-link", "co_link"), ("co-similar", "co_similar_tweet")]  # fmt: skip


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [7, 11])
async def test_every_behaviour_agrees_with_the_toolkit(
    redis: Redis, settings: Settings, tmp_path: Path, seed: int
) -> None:
    posts = generated(seed)
    await aggregate(redis, settings, posts)
    compared = 0
    for window, weight in ((60, 2), (30, 1)):
        for behaviour, network in NETWORKS:
            query = Query(behaviour, window, weight, "toolkit")  # type: ignore[arg-type]
            ours = await coordination.network(redis, TAG, query, Window(0, 10**13))
            theirs = toolkit_edges(tmp_path, posts, network, window, weight)
            assert set(ours.edges()) == theirs, (behaviour, window)
            assert len(theirs) >= 10, (behaviour, window)  # the case has edges to agree on
            compared += len(theirs)
    assert compared > 500
