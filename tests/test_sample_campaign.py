"""The sample campaign: deterministic, valid, self-consistent, and with a cohort worth finding."""

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from monitor.models import Post
from seeds import make_sample_campaign

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SAMPLE = SEEDS / "sample-campaign.jsonl"


Generate = Callable[[int], Iterator[Post]]


@pytest.fixture(scope="module")
def generate() -> Generate:
    return make_sample_campaign.generate


@pytest.fixture(scope="module")
def sample() -> list[Post]:
    with SAMPLE.open(encoding="utf-8") as lines:
        return [Post.model_validate_json(line) for line in lines]


def _normalise(text: str) -> str:
    """Case, links, emoji and punctuation dropped: what a copy-paste detector compares."""
    words = " ".join(w for w in text.split() if not w.startswith(("http://", "https://")))
    kept = "".join(c if unicodedata.category(c)[0] in "LMN" or c in "_#" else " " for c in words)
    return " ".join(kept.casefold().split())


def test_same_arguments_give_the_same_posts(generate: Generate) -> None:
    first = [post.model_dump_json() for post in generate(500)]
    second = [post.model_dump_json() for post in generate(500)]
    assert len(first) == 500
    assert first == second


def test_a_different_seed_gives_different_posts() -> None:
    module = make_sample_campaign
    first = [post.model_dump_json() for post in module.generate(200, seed=1)]
    second = [post.model_dump_json() for post in module.generate(200, seed=2)]
    assert first != second


def test_sample_file_is_what_the_generator_writes(generate: Generate) -> None:
    expected = "".join(post.model_dump_json() + "\n" for post in generate(3000))
    assert SAMPLE.read_text(encoding="utf-8") == expected


def test_every_line_is_a_post(sample: list[Post]) -> None:
    assert len(sample) == 3000
    assert {post.platform for post in sample} == {"x", "mastodon", "bluesky"}
    assert {post.kind for post in sample} == {"original", "repost", "quote", "reply"}


def test_posts_are_sorted_by_time_then_id(sample: list[Post]) -> None:
    keys: list[tuple[datetime, str]] = [(post.created_at, post.id) for post in sample]
    assert keys == sorted(keys)


def test_ids_are_unique_per_platform(sample: list[Post]) -> None:
    keys = [(post.platform, post.id) for post in sample]
    assert len(set(keys)) == len(keys)


def test_urls_have_the_platform_shape(sample: list[Post]) -> None:
    shapes = {
        "x": "https://x.com/{handle}/status/{id}",
        "mastodon": "https://mastodon.example/@{handle}/{id}",
        "bluesky": "https://bsky.app/profile/{handle}/post/{id}",
    }
    for post in sample:
        assert post.url == shapes[post.platform].format(handle=post.author_handle, id=post.id)


def test_references_point_to_earlier_posts(sample: list[Post]) -> None:
    seen: dict[tuple[str, str], Post] = {}
    for post in sample:
        if post.kind != "original":
            assert post.referenced_id is not None
            target = seen[(post.platform, post.referenced_id)]
            assert target.created_at < post.created_at
            assert (post.referenced_author_id, post.referenced_url) == (
                target.author_id,
                target.url,
            )
            if post.kind == "repost":
                assert post.hashtags == target.hashtags
                assert target.kind != "repost"
        seen[(post.platform, post.id)] = post


def test_x_retweets_name_the_original_author(sample: list[Post]) -> None:
    retweets = [post for post in sample if post.platform == "x" and post.kind == "repost"]
    assert retweets
    for post in retweets:
        assert post.text.startswith(f"RT @{post.mentions[0]}: ")


def test_texts_come_in_three_languages(sample: list[Post]) -> None:
    assert {post.lang for post in sample} == {"en", "fa", "ar"}
    assert any("\u200c" in post.text for post in sample if post.lang == "fa")


def test_every_campaign_tag_is_carried(sample: list[Post]) -> None:
    carried = {tag for post in sample for tag in post.tags}
    expected = {"irgcoutofiraq", "blacklistmois", "blacklistirgc", "irgcterrorists"}
    assert expected | {"iraq", "iraqprotests", "العراق_ينتفض", "ایران"} <= carried


def test_coordinated_cohort_posts_the_same_text_within_a_minute(sample: list[Post]) -> None:
    by_text: defaultdict[str, list[Post]] = defaultdict(list)
    for post in sample:
        if post.kind == "original":
            by_text[_normalise(post.text)].append(post)
    widest = 0
    for posts in by_text.values():
        for first in posts:
            window = [
                p for p in posts if 0 <= (p.created_at - first.created_at).total_seconds() <= 60
            ]
            widest = max(widest, len({p.author_id for p in window}))
    assert widest >= 10


def test_cohort_shows_as_a_burst(sample: list[Post]) -> None:
    per_minute: defaultdict[datetime, int] = defaultdict(int)
    for post in sample:
        per_minute[post.created_at.replace(second=0)] += 1
    counts = sorted(per_minute.values())
    assert counts[-1] >= 10 * counts[len(counts) // 2]


def test_generator_scales(generate: Generate) -> None:
    posts = list(generate(20_000))
    assert len(posts) == 20_000
    assert len({(post.platform, post.id) for post in posts}) == 20_000
