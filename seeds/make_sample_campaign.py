"""A deterministic sample campaign for offline demos: organic talk plus one coordinated cohort.

Over 48 hours from ``start``, a few hundred organic accounts on x, mastodon and bluesky post,
reply, quote and repost in English, Persian and Arabic with a daily rhythm; a cohort of accounts
created within the same few days pushes the campaign in waves (a seed post retweeted within a
minute, then the same text with the same link posted within seconds), which shows as bursts.
The same (posts, seed, start) always gives the same posts, in canonical order.
"""

import argparse
import itertools
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor import hashtags
from monitor.models import Kind, Post

START = datetime(2019, 11, 27, tzinfo=UTC)
HOURS = 48
DEFAULT_POSTS = 3000
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "sample-campaign.jsonl"

PLATFORMS = ("x", "mastodon", "bluesky")
_PLATFORM_WEIGHTS = (0.6, 0.2, 0.2)
_LANGS = ("en", "fa", "ar")
_LANG_WEIGHTS = {"x": (0.45, 0.3, 0.25), "mastodon": (0.6, 0.3, 0.1), "bluesky": (0.7, 0.2, 0.1)}
_KIND_WEIGHTS: dict[Kind, float] = {"original": 0.45, "repost": 0.35, "reply": 0.12, "quote": 0.08}
_TWEPOCH_MS = 1288834974657  # X snowflake epoch
_PROTESTS_BEGAN = datetime(2019, 10, 1, tzinfo=UTC)
_BAGHDAD = timedelta(hours=3)
# Share of posts per local hour of day (Baghdad time): quiet at night, busiest in the evening.
_RHYTHM = (3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 7, 7, 8, 9, 10, 11, 12, 11, 8, 5)

# Campaign tags, their weights, and the rarer spellings people also use.
_CAMPAIGN = {
    "IRGCOutOfIraq": (0.45, ("irgcoutofiraq", "IrgcOutOfIraq")),
    "BlackListIRGC": (0.22, ("BlacklistIRGC", "blacklistirgc")),
    "IRGCTerrorists": (0.20, ("IRGCterrorists", "irgcterrorists")),
    "BlackListMOIS": (0.13, ("BlacklistMOIS", "blacklistmois")),
}
_TAG_NAMES = tuple(_CAMPAIGN)
_TAG_CUM_WEIGHTS = tuple(itertools.accumulate(weight for weight, _ in _CAMPAIGN.values()))
_CO_TAGS = {
    "en": ("Iraq", "IraqProtests"),
    "fa": ("ایران", "Iraq"),
    "ar": ("العراق_ينتفض", "Iraq", "IraqProtests"),
}
_SENTENCES = {
    "en": (
        "Iraqis are asking for a country without militias.",
        "The IRGC has no business in Baghdad.",
        "Protesters in Tahrir Square are facing live fire tonight.",
        "Another night of crackdown in Nasiriyah. The world should be watching.",
        "The Iranian consulate in Najaf was set on fire last night.",
        "MOIS agents are hunting activists across the region.",
        "Sanctions should target the people who order the killings.",
        "Solidarity with the young people of Iraq.",
        "This is what people in the south of Iraq have been saying for weeks.",
        "Snipers on rooftops are not a security policy.",
        "The protesters' demand is simple: a homeland.",
        "Journalists covering the protests keep disappearing.",
        "Students in Basra joined the sit-in today.",
        "Militia checkpoints are back on the road to Karbala.",
        "Nobody voted for Quds Force commanders to run Iraq.",
        "Families are still waiting for news of the abducted.",
        "Tuk-tuk drivers are carrying the wounded again.",
        "Listing the IRGC as a terrorist organisation was the right call.",
    ),
    "fa": (
        "مردم عراق می‌خواهند سپاه از کشورشان بیرون برود.",
        "ما می‌خواهیم صدای معترضان عراقی شنیده شود.",
        "سپاه پاسداران باید در فهرست تروریستی بماند.",
        "وزارت اطلاعات پشت سرکوب معترضان است.",
        "نمی‌خواهیم پول مردم ایران خرج سرکوب در عراق شود.",
        "از بغداد تا تهران، مردم یک حرف می‌زنند.",
        "جوانان عراق با دست خالی در میدان تحریر ایستاده‌اند.",
        "کنسولگری در نجف به آتش کشیده شد؛ پیام روشن است.",
        "سکوت در برابر کشتار معترضان همدستی است.",
        "خبرها از کربلا و ناصریه نگران‌کننده است.",
        "دست سپاه از عراق کوتاه باد.",
        "مأموران وزارت اطلاعات باید تحریم شوند.",
        "اینترنت در بغداد دوباره قطع شده است.",
        "هنوز از ربوده‌شدگان خبری نیست.",
    ),
    "ar": (
        "الشعب العراقي يريد وطناً حراً بلا ميليشيات.",
        "نريد وطن.",
        "إيران برة برة، بغداد تبقى حرة.",
        "شباب التحرير يواجهون الرصاص بصدور عارية.",
        "الحرس الثوري يجب أن يخرج من العراق.",
        "أوقفوا قتل المتظاهرين في الناصرية والنجف.",
        "نازل آخذ حقي.",
        "كل التضامن مع ساحات الاعتصام في بغداد والجنوب.",
        "المخابرات الإيرانية وراء الاغتيالات والخطف.",
        "لا للتدخل الإيراني في شؤون العراق.",
        "القناصة على السطوح ليسوا حلاً أمنياً.",
        "طلاب البصرة ينضمون إلى الاعتصام اليوم.",
        "عوائل المختطفين ما زالت تنتظر.",
        "الإنترنت مقطوع مرة أخرى في بغداد.",
    ),
}
_OPENERS = {
    "en": ("", "", "", "Update:", "Tonight:", "Again:", "Thread 🧵"),
    "fa": ("", "", "", "فوری:", "همین حالا:", "دوباره:"),
    "ar": ("", "", "", "عاجل:", "الآن:", "مجدداً:"),
}
_CLOSERS = {
    "en": ("", "", "Please share.", "Day {day} of the protests.", "Don't look away.", "✊", "🇮🇶"),
    "fa": ("", "", "لطفاً پخش کنید.", "روز {day} اعتراضات.", "نگاهتان را برنگردانید.", "✊"),
    "ar": ("", "", "انشروا رجاءً.", "اليوم {day} من الثورة.", "لا تسكتوا.", "✊", "🇮🇶"),
}
_REPLIES = {
    "en": ("Exactly this.", "Thank you for reporting this.", "Is there a source for the video?",
           "Stay safe 🙏", "This needs more attention.", "Heartbreaking."),
    "fa": ("دقیقاً.", "ممنون که می‌نویسید.", "منبع ویدیو کجاست؟", "مراقب خودتان باشید 🙏",
           "باید بیشتر دیده شود."),
    "ar": ("بالضبط.", "شكراً على النقل.", "الله يحفظكم 🙏", "ما هو المصدر؟", "لازم ينتشر."),
}  # fmt: skip
_LINK_HOSTS = (
    "https://news.example.org/world/middle-east/{slug}",
    "https://www.example.com/iraq/{slug}-{n}",
    "https://media.example.net/video/{n}",
    "https://rights.example.org/reports/2019/{slug}",
)
_SLUGS = (
    "baghdad-tahrir-square-sit-in",
    "najaf-consulate-fire",
    "nasiriyah-crackdown-dead",
    "iraq-protests-militias",
    "irgc-quds-force-iraq",
    "mois-abductions-activists",
    "basra-students-strike",
)
# fmt: off
_FIRST = (
    "ali", "sara", "reza", "zahra", "hussein", "maryam", "omar", "noor", "mehdi", "layla",
    "hassan", "fatemeh", "ahmed", "shirin", "karim", "dina", "amir", "huda", "nima", "yasmin",
    "kian", "rana", "sam", "anna", "david", "leila", "farid", "mina", "tom", "elena",
)
_LAST = (
    "karimi", "alhassan", "ahmadi", "jaber", "rahimi", "saadi", "moradi", "kadhim", "hosseini",
    "obaidi", "tehrani", "baghdadi", "smith", "novak", "rostami", "salih", "nouri", "haddad",
)
# fmt: on
_NATIVE = {
    "fa": ("علی", "سارا", "رضا", "زهرا", "مریم", "مهدی", "شیرین", "نیما", "فاطمه", "امیر"),
    "ar": ("حسين", "نور", "عمر", "ليلى", "أحمد", "هدى", "حسن", "رنا", "كريم", "زينب"),
}

# The coordinated cohort: one seed post, then copy-paste texts that all carry the same link.
_COHORT_LINK = "https://irgc-out.example.org/petition?utm_source=share"
_SEED_TEXT = f"Thousands are joining the call. Read and sign: {_COHORT_LINK} #IRGCOutOfIraq #Iraq"
_COPY_TEXTS = (
    f"The people of Iraq have spoken: the IRGC must leave. Sign and share {_COHORT_LINK} "
    "#IRGCOutOfIraq #IRGCTerrorists #Iraq",
    f"العراق ليس ساحة للحرس الثوري. وقّع وشارك {_COHORT_LINK} "
    "#IRGCOutOfIraq #BlackListIRGC #العراق_ينتفض",
    f"سپاه را از عراق بیرون کنید؛ ما می‌خواهیم عراق آزاد باشد. امضا کنید {_COHORT_LINK} "
    "#BlackListIRGC #BlackListMOIS #ایران",
)
_COPY_LANGS = ("en", "ar", "fa")
_COPY_SUFFIXES = ("", "", "", " 🇮🇶", " ✊", " 🔥", "!")
_COHORT_NAMES = ("FreeIraq", "Hussein", "Zainab", "Iraqi", "Ahmed", "Noor", "Baghdad", "Ali")
_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class _Account:
    """Who posts; fixed for the whole sample so per-account signals have something to find."""

    platform: str
    id: str
    handle: str
    name: str
    created_at: datetime
    followers: int
    lang: str


class _Ids:
    """Platform-shaped ids, unique per platform, that encode the time as the real ones do."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: dict[str, set[str]] = {platform: set() for platform in PLATFORMS}

    def post(self, platform: str, when: datetime) -> str:
        """An X or Mastodon snowflake, or a Bluesky TID, for a post made at ``when``."""
        ms = int(when.timestamp()) * 1000 + self._rng.randrange(1000)
        while True:
            if platform == "x":
                candidate = str(((ms - _TWEPOCH_MS) << 22) | self._rng.getrandbits(22))
            elif platform == "mastodon":
                candidate = str((ms << 16) | self._rng.getrandbits(16))
            else:
                value = ((ms * 1000 + self._rng.randrange(1000)) << 10) | self._rng.getrandbits(10)
                candidate = "".join(_B32_SORTABLE[(value >> s) & 31] for s in range(60, -1, -5))
            if self._unique(platform, candidate):
                return candidate

    def account(self, platform: str, created: datetime) -> str:
        """An account id shaped as the platform issued them when the account was made."""
        ms = int(created.timestamp()) * 1000 + self._rng.randrange(1000)
        while True:
            if platform == "x" and created.year < 2014:
                candidate = str(self._rng.randrange(10_000_000, 2_400_000_000))
            elif platform == "x":
                candidate = str(((ms - _TWEPOCH_MS) << 22) | self._rng.getrandbits(22))
            elif platform == "mastodon":
                candidate = str((ms << 16) | self._rng.getrandbits(16))
            else:
                candidate = "did:plc:" + "".join(self._rng.choices(_B32_SORTABLE[::-1], k=24))
            if self._unique(platform, "account:" + candidate):
                return candidate

    def _unique(self, platform: str, candidate: str) -> bool:
        seen = self._seen[platform]
        if candidate in seen:
            return False
        seen.add(candidate)
        return True


def _url(platform: str, handle: str, post_id: str) -> str:
    if platform == "x":
        return f"https://x.com/{handle}/status/{post_id}"
    if platform == "mastodon":
        return f"https://mastodon.example/@{handle}/{post_id}"
    return f"https://bsky.app/profile/{handle}/post/{post_id}"


def _identity(rng: random.Random, platform: str, lang: str, taken: set[str]) -> tuple[str, str]:
    """A unique handle in the platform's own shape (X: 15 chars; Bluesky: a domain), and a name."""
    while True:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        shape = rng.randrange(4)
        local = (first, f"{first}_{last}", f"{first[0]}{last}", f"{last}{first}")[shape]
        if rng.random() < 0.5 or local in taken:
            local += str(rng.randrange(1, 10_000))
        if platform == "x":
            local = local[:15]
        elif platform == "bluesky":
            local = local.replace("_", "-") + ".bsky.social"
        if local not in taken:
            taken.add(local)
            break
    if lang in _NATIVE and rng.random() < 0.6:
        return local, rng.choice(_NATIVE[lang])
    return local, rng.choice((first.capitalize(), f"{first.capitalize()} {last.capitalize()}"))


def _organic_accounts(rng: random.Random, ids: _Ids, count: int, start: datetime) -> list[_Account]:
    """Accounts of every age and reach: the people a campaign hopes to be."""
    taken: dict[str, set[str]] = {platform: set() for platform in PLATFORMS}
    accounts = []
    for _ in range(count):
        platform = rng.choices(PLATFORMS, _PLATFORM_WEIGHTS)[0]
        oldest = 3650 if platform == "x" else 950  # X since 2009; Fediverse accounts are younger
        created = start - timedelta(days=rng.uniform(20, oldest), seconds=rng.randrange(86_400))
        created = created.replace(microsecond=0)
        lang = rng.choices(_LANGS, _LANG_WEIGHTS[platform])[0]
        handle, name = _identity(rng, platform, lang, taken[platform])
        accounts.append(
            _Account(
                platform=platform,
                id=ids.account(platform, created),
                handle=handle,
                name=name,
                created_at=created,
                followers=min(int(rng.lognormvariate(5.3, 1.7)), 3_000_000),
                lang=lang,
            )
        )
    return accounts


def _cohort_accounts(rng: random.Random, ids: _Ids, count: int, start: datetime) -> list[_Account]:
    """New X accounts with default-looking handles, made within three days, with few followers."""
    born, taken = start - timedelta(days=9), set[str]()
    accounts = []
    for index in range(count):
        created = born + timedelta(seconds=rng.randrange(3 * 86_400))
        stem = rng.choice(_COHORT_NAMES)
        handle = f"{stem}{rng.randrange(10**7, 10**8)}"[:15]
        while handle in taken:
            handle = f"{stem}{rng.randrange(10**7, 10**8)}"[:15]
        taken.add(handle)
        accounts.append(
            _Account(
                platform="x",
                id=ids.account("x", created),
                handle=handle,
                name=stem if stem != "FreeIraq" else "Free Iraq",
                created_at=created,
                followers=rng.randrange(40, 300) if index == 0 else rng.randrange(0, 15),
                lang="en",
            )
        )
    return accounts


def _campaign_tags(rng: random.Random, lang: str) -> list[str]:
    """One to three campaign tags, mostly in their usual spelling, and maybe a co-tag or two."""
    draw = rng.random()
    wanted = 1 if draw < 0.6 else 2 if draw < 0.9 else 3
    chosen: list[str] = []
    while len(chosen) < wanted:
        tag = rng.choices(_TAG_NAMES, cum_weights=_TAG_CUM_WEIGHTS)[0]
        if tag not in chosen:
            chosen.append(tag)
    spelled = [rng.choice(_CAMPAIGN[tag][1]) if rng.random() < 0.1 else tag for tag in chosen]
    draw = rng.random()
    return spelled + rng.sample(_CO_TAGS[lang], 0 if draw < 0.4 else 1 if draw < 0.8 else 2)


def _link(rng: random.Random) -> str:
    host = rng.choice(_LINK_HOSTS)
    return host.format(slug=rng.choice(_SLUGS), n=rng.randrange(10_000, 99_999))


def _text(rng: random.Random, lang: str, when: datetime, body: str, tags: bool) -> str:
    """Opener, body, closer and tags, with the tags at the end or up front."""
    day = (when - _PROTESTS_BEGAN).days + 1
    parts = [rng.choice(_OPENERS[lang]), body, rng.choice(_CLOSERS[lang]).format(day=day)]
    tag_text = " ".join("#" + tag for tag in _campaign_tags(rng, lang)) if tags else ""
    if tag_text and rng.random() < 0.25:
        parts.insert(0, tag_text)
    else:
        parts.append(tag_text)
    return " ".join(part for part in parts if part)


class _Organic:
    """Organic talk in time order; reposts, quotes and replies favour earlier popular posts."""

    def __init__(self, rng: random.Random, ids: _Ids) -> None:
        self._rng = rng
        self._ids = ids
        self._pool: dict[str, list[Post]] = {platform: [] for platform in PLATFORMS}

    def post(self, author: _Account, when: datetime, kind: Kind) -> Post:
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

    def _target(self, author: _Account, when: datetime) -> Post | None:
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

    def _original(self, author: _Account, when: datetime) -> Post:
        """One or two sentences, tags, and one time in five a link to a news story."""
        rng = self._rng
        body = rng.choice(_SENTENCES[author.lang])
        if rng.random() < 0.3:
            body += " " + rng.choice(_SENTENCES[author.lang])
        text = _text(rng, author.lang, when, body, tags=True)
        links = [_link(rng)] if rng.random() < 0.2 else []
        if links:
            text += " " + links[0]
        return _build(self._ids, author, when, text, links=links)

    def _respond(self, author: _Account, when: datetime, target: Post, kind: Kind) -> Post:
        """A reply or a quote; about one in twenty carries no tag of its own."""
        rng = self._rng
        if kind == "reply":
            body = rng.choice(_REPLIES[author.lang])
            if rng.random() < 0.4:
                body += " " + rng.choice(_SENTENCES[author.lang])
        else:
            body = rng.choice(_SENTENCES[author.lang]) + rng.choice(("", " 👇", " ⬇️"))
        text = _text(rng, author.lang, when, body, tags=rng.random() >= 0.05)
        mentions: list[str] = []
        if kind == "reply" and author.platform != "bluesky" and target.author_handle:
            text = f"@{target.author_handle} {text}"
            mentions = [target.author_handle]
        return _build(self._ids, author, when, text, kind=kind, target=target, mentions=mentions)


def _repost(ids: _Ids, author: _Account, when: datetime, target: Post) -> Post:
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


def _build(
    ids: _Ids,
    author: _Account,
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


def _organic_times(rng: random.Random, count: int, start: datetime) -> list[datetime]:
    """Sorted post times that follow the daily rhythm and grow slowly as the campaign spreads."""
    minutes = HOURS * 60
    weights = [
        _RHYTHM[((start + _BAGHDAD).hour + minute // 60) % 24] * (1 + 0.5 * minute / minutes)
        for minute in range(minutes)
    ]
    picked = rng.choices(range(minutes), weights, k=count)
    return sorted(start + timedelta(minutes=m, seconds=rng.randrange(60)) for m in picked)


def _organic(rng: random.Random, ids: _Ids, count: int, start: datetime) -> list[Post]:
    """The organic part: a heavy tail of activity over a few hundred accounts per 3000 posts."""
    accounts = _organic_accounts(rng, ids, max(40, count // 9), start)
    activity = [rng.paretovariate(1.3) for _ in accounts]
    authors = rng.choices(accounts, activity, k=count)
    kinds = rng.choices(list(_KIND_WEIGHTS), list(_KIND_WEIGHTS.values()), k=count)
    talk = _Organic(rng, ids)
    times = _organic_times(rng, count, start)
    return [talk.post(a, t, k) for a, t, k in zip(authors, times, kinds, strict=True)]


def _push(
    rng: random.Random, ids: _Ids, cohort: Sequence[_Account], at: datetime, n: int
) -> list[Post]:
    """A seed post, the cohort retweeting it within a minute, then two copy-paste waves."""
    hub = cohort[0]
    seed = _build(ids, hub, at, _SEED_TEXT, links=[_COHORT_LINK], lang="en")
    posts = [seed]
    for member, offset in _wave(rng, cohort[1:], 45):
        posts.append(_repost(ids, member, at + timedelta(seconds=75 + offset), seed))
    for wave, delay in enumerate((6, 21)):
        copy = (n + wave) % len(_COPY_TEXTS)
        for member, offset in _wave(rng, cohort, min(40, 8 + len(cohort) // 5)):
            when = at + timedelta(minutes=delay, seconds=offset)
            text = _COPY_TEXTS[copy] + rng.choice(_COPY_SUFFIXES)
            posts.append(
                _build(ids, member, when, text, links=[_COHORT_LINK], lang=_COPY_LANGS[copy])
            )
    return posts


def _wave(
    rng: random.Random, accounts: Sequence[_Account], spread: int
) -> list[tuple[_Account, int]]:
    """Most of the accounts, each acting within ``spread`` seconds of the signal."""
    chosen = [account for account in accounts if rng.random() < 0.92]
    return [(account, rng.randrange(1, spread)) for account in chosen]


def _coordinated(rng: random.Random, ids: _Ids, total: int, start: datetime) -> list[Post]:
    """About 12% of the posts, at least one push: the cohort's pushes spread over the window."""
    cohort = _cohort_accounts(rng, ids, max(25, total // 120), start)
    target = min(total, max(3 * len(cohort), round(total * 0.12)))
    pushes = max(1, round(target / (3 * len(cohort) * 0.92)))  # 92%: a member's odds of acting
    posts: list[Post] = []
    for n in range(pushes):
        hours = (n + 0.5) * HOURS / pushes + rng.uniform(-0.5, 0.5)
        at = start + timedelta(hours=hours, seconds=rng.randrange(60))
        posts.extend(_push(rng, ids, cohort, at.replace(microsecond=0), n))
    return posts[:total]


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
    ids = _Ids(rng)
    coordinated = _coordinated(rng, ids, posts, start) if posts else []
    organic = _organic(rng, ids, posts - len(coordinated), start)
    yield from sorted(organic + coordinated, key=_order)


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
