"""The platform-neutral post: what every collector and importer produces."""

from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from monitor import hashtags

Kind = Literal["original", "repost", "quote", "reply"]
KINDS: tuple[Kind, ...] = ("original", "repost", "quote", "reply")


def _without_nul(value: str) -> str:
    """Ids are joined by NULs in the tallies' names and members, so an id may not hold one."""
    if "\0" in value:
        raise ValueError("must not contain a NUL character")
    return value


Id = Annotated[str, AfterValidator(_without_nul)]
LAST_MS = 10**13 - 1  # indexes order posts by their time as 13 digits of ms since 1970
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = _EPOCH + timedelta(milliseconds=LAST_MS)


def _stampable(value: datetime) -> datetime:
    """Indexes order posts by their time as 13 digits of milliseconds since 1970."""
    if not _EPOCH <= value <= _LAST:
        raise ValueError(f"must be from {_EPOCH:%Y-%m-%d} to {_LAST:%Y-%m-%d}")
    return value


PostTime = Annotated[AwareDatetime, AfterValidator(_stampable)]


class Post(BaseModel):
    """One post as seen on one platform; ``hashtags`` are as written, without '#'.

    For a repost, ``hashtags`` are those of the reposted post (its own text is often truncated);
    a quote or a reply carries only its own. ``referenced_*`` describe the post it reposts,
    quotes or replies to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    id: Id = Field(min_length=1, max_length=200)
    url: str | None = None
    author_id: Id = Field(min_length=1, max_length=200)
    author_handle: str | None = None
    author_name: str | None = None
    author_created_at: AwareDatetime | None = None
    author_followers: int | None = Field(default=None, ge=0)
    created_at: PostTime
    text: str = ""
    hashtags: list[str] = Field(default_factory=list)
    kind: Kind = "original"
    referenced_id: Id | None = None
    referenced_author_id: Id | None = None
    referenced_url: str | None = None
    referenced_text: str | None = None  # where the platform gives it beside the post
    referenced_author_name: str | None = None  # likewise
    links: list[str] = Field(default_factory=list)
    short_links: dict[str, str] = Field(default_factory=dict)  # as written in text -> expanded
    mentions: list[str] = Field(default_factory=list)
    media: list[str] = Field(
        default_factory=list
    )  # image and video URLs, where the platform gives them
    lang: str | None = None

    @cached_property
    def tags(self) -> dict[str, str]:
        """Normal form -> the spelling this post used, for each tag the post carries."""
        return hashtags.carried(self.hashtags)
