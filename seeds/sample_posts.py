"""The sample's posts: organic talk with a daily rhythm, and the cohort's coordinated pushes."""

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from monitor import hashtags
from monitor.models import Kind, Post
from seeds.sample_accounts import PLATFORMS, Account, Ids, cohort_accounts, organic_accounts
from seeds.sample_texts import (
    COHORT_LINK,
    COPY_LANGS,
    COPY_SUFFIXES,
    COPY_TEXTS,
    REPLIES,
    SEED_TEXT,
    SENTENCES,
    compose,
    news_link,
)

HOURS = 48
_KIND_WEIGHTS: dict[Kind, float] = {"original": 0.45, "repost": 0.35, "reply": 0.12, "quote": 0.08}
_BAGHDAD = timedelta(hours=3)
# Share of posts per local hour of day (Baghdad time): quiet at night, busiest in the evening.
_RHYTHM = (3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7, 8, 9, 10, 11, 12, 11, 8, 5)


def _url(platform: str, handle: str, post_id: str) -> str:
    if platform == "x":
        return f"https://x.com/{handle}/status/{post_id}"
    if platform == "mastodon":
        return f"https://mastodon.example/@{handle}/{post_id}"
    return f"https://bsky.app/profile/{handle}/post/{post_id}"


def _build(
    ids: Ids,
    author: Account,
    when: datetime,
    text: str,
    *,
    kind: Kind = "original",
    target: Post | None = None,
    tags: list[str] | None = None,
    links: Sequence[str] = (),
    mentions: Sequence[str] = (),
    lang: str | None = None,
) -> Post:
    """A validated Post; its tags are read from its text unless given (as for a repost)."""
    post_id = ids.post(author.platform, when)
    return Post(
        platform=author.platform,
        id=post_id,
        url=_url(author.platform, author.handle, post_id),
        author_id=author.id,
        author_handle=author.handle,
        author_name=author.name,
        author_created_at=author.created_at,
        author_followers=author.followers,
        created_at=when,
        text=text,
        hashtags=hashtags.extract(text) if tags is None else tags,
        kind=kind,
        referenced_id=target.id if target else None,
        referenced_author_id=target.author_id if target else None,
        referenced_url=target.url if target else None,
        links=list(links),
        mentions=list(mentions),
        lang=lang or author.lang,
    )


def _repost(ids: Ids, author: Account, when: datetime, target: Post) -> Post:
    """X retweets read "RT @handle: ..." cut at 140; boosts repeat the text; Bluesky has none."""
    text = target.text
    if author.platform == "x":
        text = f"RT @{target.author_handle}: {target.text}"
        text = text if len(text) <= 140 else text[:139] + "…"
    elif author.platform == "bluesky":
        text = ""
    return _build(
        ids, author, when, text, kind="repost", target=target, tags=list(target.hashtags),
        links=list(target.links), lang=target.lang,
        mentions=[target.author_handle] if author.platform == "x" and target.author_handle else [],
    )  # fmt: skip


class _Organic:
    """Organic talk in time order; reposts, quotes and replies favour earlier popular posts."""

    def __init__(self, rng: random.Random, ids: Ids) -> None:
        self._rng = rng
        self._ids = ids
        self._pool: dict[str, list[Post]] = {platform: [] for platform in PLATFORMS}

    def post(self, author: Account, when: datetime, kind: Kind) -> Post:
        """The next post; a reference to nothing suitable yet falls back to an original."""
        target = self._target(author, when) if kind != "original" else None
        if target is None:
            post = self._original(author, when)
        elif kind == "repost":
            post = _repost(self._ids, author, when, target)
        else:
            post = self._respond(author, when, target, kind)
        if post.kind != "repost":
            self._pool[author.platform].append(post)
        return post

    def _target(self, author: Account, when: datetime) -> Post | None:
        """An earlier post of another account on the same platform, half the time a recent one."""
        pool, rng = self._pool[author.platform], self._rng
        if not pool:
            return None
        recent = rng.random() < 0.5
        target = pool[-1 - rng.randrange(min(len(pool), 40))] if recent else rng.choice(pool)
        if target.created_at >= when or target.author_id == author.id:
            return None
        pool.append(target)  # each reference makes the post likelier to be picked again
        return target

    def _original(self, author: Account, when: datetime) -> Post:
        """One or two sentences, tags, and one time in five a link to a news story."""
        rng = self._rng
        body = rng.choice(SENTENCES[author.lang])
        if rng.random() < 0.3:
            body += " " + rng.choice(SENTENCES[author.lang])
        text = compose(rng, author.lang, when, body, tags=True)
        links = [news_link(rng)] if rng.random() < 0.2 else []
        if links:
            text += " " + links[0]
        return _build(self._ids, author, when, text, links=links)

    def _respond(self, author: Account, when: datetime, target: Post, kind: Kind) -> Post:
        """A reply or a quote; about one in twenty carries no tag of its own."""
        rng = self._rng
        if kind == "reply":
            body = rng.choice(REPLIES[author.lang])
            if rng.random() < 0.4:
                body += " " + rng.choice(SENTENCES[author.lang])
        else:
            body = rng.choice(SENTENCES[author.lang]) + rng.choice(("", " 👇", " ⬇️"))
        text = compose(rng, author.lang, when, body, tags=rng.random() >= 0.05)
        mentions: list[str] = []
        if kind == "reply" and author.platform != "bluesky" and target.author_handle:
            text = f"@{target.author_handle} {text}"
            mentions = [target.author_handle]
        return _build(self._ids, author, when, text, kind=kind, target=target, mentions=mentions)


def _organic_times(rng: random.Random, count: int, start: datetime) -> list[datetime]:
    """Sorted post times that follow the daily rhythm and grow slowly as the campaign spreads."""
    minutes = HOURS * 60
    weights = [
        _RHYTHM[((start + _BAGHDAD).hour + minute // 60) % 24] * (1 + 0.5 * minute / minutes)
        for minute in range(minutes)
    ]
    picked = rng.choices(range(minutes), weights, k=count)
    return sorted(start + timedelta(minutes=m, seconds=rng.randrange(60)) for m in picked)


def organic(rng: random.Random, ids: Ids, count: int, start: datetime) -> list[Post]:
    """The organic part: a heavy tail of activity over a few hundred accounts per 3000 posts."""
    accounts = organic_accounts(rng, ids, max(40, count // 9), start)
    activity = [rng.paretovariate(1.3) for _ in accounts]
    authors = rng.choices(accounts, activity, k=count)
    kinds = rng.choices(list(_KIND_WEIGHTS), list(_KIND_WEIGHTS.values()), k=count)
    talk = _Organic(rng, ids)
    times = _organic_times(rng, count, start)
    return [talk.post(a, t, k) for a, t, k in zip(authors, times, kinds, strict=True)]


def _push(
    rng: random.Random, ids: Ids, cohort: Sequence[Account], at: datetime, n: int
) -> list[Post]:
    """A seed post, the cohort retweeting it within a minute, then two copy-paste waves."""
    hub = cohort[0]
    seed = _build(ids, hub, at, SEED_TEXT, links=[COHORT_LINK], lang="en")
    posts = [seed]
    for member, offset in _wave(rng, cohort[1:], 45):
        posts.append(_repost(ids, member, at + timedelta(seconds=75 + offset), seed))
    for wave, delay in enumerate((6, 21)):
        copy = (n + wave) % len(COPY_TEXTS)
        for member, offset in _wave(rng, cohort, min(40, 8 + len(cohort) // 5)):
            when = at + timedelta(minutes=delay, seconds=offset)
            text = COPY_TEXTS[copy] + rng.choice(COPY_SUFFIXES)
            posts.append(
                _build(ids, member, when, text, links=[COHORT_LINK], lang=COPY_LANGS[copy])
            )
    return posts


def _wave(
    rng: random.Random, accounts: Sequence[Account], spread: int
) -> list[tuple[Account, int]]:
    """Most of the accounts, each acting within ``spread`` seconds of the signal."""
    chosen = [account for account in accounts if rng.random() < 0.92]
    return [(account, rng.randrange(1, spread)) for account in chosen]


def coordinated(rng: random.Random, ids: Ids, total: int, start: datetime) -> list[Post]:
    """About 12% of the posts, at least one push: the cohort's pushes spread over the window."""
    cohort = cohort_accounts(rng, ids, max(25, total // 120), start)
    target = min(total, max(3 * len(cohort), round(total * 0.12)))
    pushes = max(1, round(target / (3 * len(cohort) * 0.92)))  # 92%: a member's odds of acting
    posts: list[Post] = []
    for n in range(pushes):
        hours = (n + 0.5) * HOURS / pushes + rng.uniform(-0.5, 0.5)
        at = start + timedelta(hours=hours, seconds=rng.randrange(60))
        posts.extend(_push(rng, ids, cohort, at.replace(microsecond=0), n))
    return posts[:total]
