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
    name: str | None = None  # the display name of its newest post


class TopPost(_Model):
    id: str
    platform: str
    url: str | None
    people_talking: int
    reposts: int
    quotes: int
    replies: int
    text: str | None = None  # exactly as posted (a long one cut, saying so); None: not stored
    handle: str | None = None  # its author's, where the tag holds the post
    name: str | None = None  # its author's display name, where the platform gave it
    time: str | None = None  # ISO 8601, where the tag holds the post


class CoHashtag(_Model):
    tag: str
    posts: int


class BusiestMinute(_Model):
    start: str
    posts: int


class Member(_Model):
    id: str
    handle: str | None


class CoordinationCluster(_Model):
    size: int
    members: list[Member]
    weight: int  # sum of the directed weights of its edges (those >= min_weight)
    coactivity_weight: int  # the same edges, counting any two posts within the window (baseline)
    evidence_pairs: int
    posts: int
    evidence: str  # the command that lists its post pairs


class BehaviourNetwork(_Model):
    behaviour: str
    edges: int  # directed edges with weight >= min_weight
    accounts: int
    clusters: list[CoordinationCluster]
    unpaired_viral_posts: int


class Variant(_Model):
    text: str  # as posted
    posts: int


class CopyPasteCluster(_Model):
    text: str  # the matching key (normalised): what the posts share
    accounts: int
    account_ids: list[str]
    posts: int
    first: str
    last: str
    span_s: float
    first_text: str | None = None  # the first post's words as posted (None: not stored)
    variants: int = 0  # distinct texts as posted, among its posts whose words are stored
    common_variants: list[Variant] = []  # the most posted, most first (at most three)


class Burst(_Model):
    start: str
    peak: str
    end: str
    posts: int
    peak_posts: int
    peak_z: float | None  # None: the baseline never varied, any rise stands out
    coordinated_share: float  # of its posts, by accounts in a coordination cluster


class Cohorts(_Model):
    accounts: int
    with_creation_date: int
    created_by_month: dict[str, int]
    new_share: float | None
    creation_spikes: dict[str, int]
    posts_per_account_median: float
    posts_per_account_p90: int
    posts_per_account_max: int
    top_1pct_share: float
    top_10_share: float


class Coordination(_Model):
    """Who acted together, with the parameters used; see the docs for every definition."""

    parameters: dict[str, float | int | str]
    networks: list[BehaviourNetwork]
    coordinated_accounts: int
    people_share: float
    posts_share: float  # posts by coordinated accounts
    matched_posts_share: float  # posts in at least one evidence pair within a cluster
    copy_paste: list[CopyPasteCluster]
    bursts: list[Burst]
    cohorts: Cohorts | None


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
    coordination: Coordination | None = None


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
