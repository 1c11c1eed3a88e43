"""The report's JSON contract: fields are added over time, never renamed or removed."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Bucket = Literal["minute", "hour", "day"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class PostCounts(_Model):
    total: int
    original: int
    repost: int
    quote: int
    reply: int


class VolumePoint(_Model):
    start: str
    posts: int
    people: int
    original: int = 0
    repost: int = 0
    quote: int = 0
    reply: int = 0


class TopAccount(_Model):
    id: str
    platform: str
    handle: str | None
    posts: int


class TopPost(_Model):
    id: str
    platform: str
    url: str | None
    people_talking: int
    reposts: int
    quotes: int
    replies: int


class CoHashtag(_Model):
    tag: str
    posts: int


class BusiestMinute(_Model):
    start: str
    posts: int


class Parameters(_Model):
    """What the report was asked for, so that a published figure can be made again."""

    since: str | None
    until: str | None
    top: int


class TagReport(_Model):
    """One tag over one window; every figure is exact."""

    tag: str
    display: str
    from_: str = Field(alias="from")
    to: str
    bucket: Bucket
    posts: PostCounts
    people: int
    posts_per_person: float
    platforms: dict[str, int]
    busiest_minute: BusiestMinute | None
    volume: list[VolumePoint]
    top_accounts: list[TopAccount]
    top_posts: list[TopPost]
    cohashtags: list[CoHashtag]
    parameters: Parameters
    generated_by: str


class SummaryRow(_Model):
    tag: str
    display: str
    posts: int
    people: int
    posts_per_person: float
    previous_posts: int
    change: float | None  # relative change against the previous window; None when it had none
    busiest_minute: BusiestMinute | None


class ListSummary(_Model):
    """Every tag of one watchlist over one window, anchored at the list's newest post."""

    watchlist: str = Field(alias="list")
    from_: str = Field(alias="from")
    to: str
    rows: list[SummaryRow]
    generated_by: str
