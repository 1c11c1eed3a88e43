"""A deterministic sample campaign for offline demos: organic talk plus one coordinated cohort.

Over 48 hours from ``start``, a few hundred organic accounts on x, mastodon and bluesky post,
reply, quote and repost in English, Persian and Arabic with a daily rhythm; a cohort of accounts
created within the same few days pushes the campaign in waves (a seed post retweeted within a
minute, then the same text with the same link posted within seconds), which shows as bursts.
The same (posts, seed, start) always gives the same posts, in canonical order.
"""

import argparse
import random
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from monitor.models import Post
from seeds.sample_accounts import Ids
from seeds.sample_posts import coordinated, organic

START = datetime(2019, 11, 27, tzinfo=UTC)
DEFAULT_POSTS = 3000
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "sample-campaign.jsonl"


def _order(post: Post) -> tuple[datetime, str, str]:
    """The canonical order; the platform only breaks ties between equal ids."""
    return post.created_at, post.id, post.platform


def generate(posts: int, seed: int = 2019, start: datetime = START) -> Iterator[Post]:
    """Exactly ``posts`` posts sorted by created_at then id; same arguments, same posts."""
    if posts < 0:
        raise ValueError(f"posts must be >= 0, not {posts}")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    rng = random.Random(seed)
    ids = Ids(rng)
    cohort = coordinated(rng, ids, posts, start) if posts else []
    talk = organic(rng, ids, posts - len(cohort), start)
    yield from sorted(talk + cohort, key=_order)


def write(path: Path, posts: int, seed: int = 2019) -> int:
    """Write the canonical JSONL (one Post per line) and return how many lines were written."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for post in generate(posts, seed):
            out.write(post.model_dump_json() + "\n")
            count += 1
    return count


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: python seeds/make_sample_campaign.py [-n N] [-o FILE] [--seed S]."""
    parser = argparse.ArgumentParser(description="Write the sample campaign as canonical JSONL.")
    parser.add_argument("-n", "--posts", type=int, default=DEFAULT_POSTS, help="number of posts")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="output file")
    parser.add_argument("--seed", type=int, default=2019, help="random seed")
    args = parser.parse_args(argv)
    if args.posts < 0:
        parser.error("-n must be >= 0")
    count = write(args.output, args.posts, args.seed)
    sys.stderr.write(f"{args.output}: {count} posts\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
