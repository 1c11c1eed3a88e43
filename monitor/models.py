"""The platform-neutral post: what every collector and importer produces."""

from functools import cached_property
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from monitor import hashtags

Kind = Literal["original", "repost", "quote", "reply"]
KINDS: tuple[Kind, ...] = ("original", "repost", "quote", "reply")


class Post(BaseModel):
    """One post as seen on one platform; ``hashtags`` are as written, without '#'.

    For a repost, ``hashtags`` are those of the reposted post (its own text is often truncated);
    a quote or a reply carries only its own. ``referenced_*`` describe the post it reposts,
    quotes or replies to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    id: str = Field(min_length=1, max_length=200)
    url: str | None = None
    author_id: str = Field(min_length=1, max_length=200)
    author_handle: str | None = None
    author_name: str | None = None
    author_created_at: AwareDatetime | None = None
    author_followers: int | None = Field(default=None, ge=0)
    created_at: AwareDatetime
    text: str = ""
    hashtags: list[str] = Field(default_factory=list)
    kind: Kind = "original"
    referenced_id: str | None = None
    referenced_author_id: str | None = None
    referenced_url: str | None = None
    links: list[str] = Field(default_factory=list)
    short_links: dict[str, str] = Field(default_factory=dict)  # as written in text -> expanded
    mentions: list[str] = Field(default_factory=list)
    lang: str | None = None

    @cached_property
    def tags(self) -> dict[str, str]:
        """Normal form -> the spelling this post used, for each tag the post carries."""
        return hashtags.carried(self.hashtags)
