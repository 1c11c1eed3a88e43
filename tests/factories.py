"""Posts for tests, with only what a test cares about spelled out."""

from datetime import UTC, datetime, timedelta

from monitor.models import Kind, Post
from monitor.signals.records import Arrival, arrival

T0 = datetime(2019, 11, 27, 12, 0, tzinfo=UTC)


def post(
    id: str,
    author: str,
    tags: list[str],
    *,
    kind: Kind = "original",
    at: float = 0.0,
    ref: str | None = None,
    ref_author: str | None = None,
    platform: str = "x",
    handle: str | None = None,
    text: str | None = None,
    links: list[str] | None = None,
) -> Post:
    """A post ``at`` seconds after T0; its text defaults to its tags."""
    return Post(
        platform=platform,
        id=id,
        url=f"https://x.example/{author}/status/{id}",
        author_id=author,
        author_handle=handle or f"user{author}",
        created_at=T0 + timedelta(seconds=at),
        text=" ".join(f"#{t}" for t in tags) if text is None else text,
        links=links or [],
        hashtags=tags,
        kind=kind,
        referenced_id=ref,
        referenced_author_id=ref_author,
        referenced_url=f"https://x.example/i/status/{ref}" if ref else None,
    )


def arrivals(posts: list[Post]) -> list[Arrival]:
    """Posts as aggregators receive them from the stream."""
    return [arrival(p) for p in posts]
