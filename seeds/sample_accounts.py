"""Who posts in the sample, and the platform-shaped ids that they and their posts carry."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from seeds.sample_texts import COHORT_NAMES, FIRST, LAST, NATIVE

PLATFORMS = ("x", "mastodon", "bluesky")
_PLATFORM_WEIGHTS = (0.6, 0.2, 0.2)
_LANGS = ("en", "fa", "ar")
_LANG_WEIGHTS = {"x": (0.45, 0.3, 0.25), "mastodon": (0.6, 0.3, 0.1), "bluesky": (0.7, 0.2, 0.1)}
_TWEPOCH_MS = 1288834974657  # X snowflake epoch
_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Account:
    """Who posts; fixed for the whole sample so per-account signals have something to find."""

    platform: str
    id: str
    handle: str
    name: str
    created_at: datetime
    followers: int
    lang: str


class Ids:
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


def _identity(rng: random.Random, platform: str, lang: str, taken: set[str]) -> tuple[str, str]:
    """A unique handle in the platform's own shape (X: 15 chars; Bluesky: a domain), and a name."""
    while True:
        first, last = rng.choice(FIRST), rng.choice(LAST)
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
    if lang in NATIVE and rng.random() < 0.6:
        return local, rng.choice(NATIVE[lang])
    return local, rng.choice((first.capitalize(), f"{first.capitalize()} {last.capitalize()}"))


def organic_accounts(rng: random.Random, ids: Ids, count: int, start: datetime) -> list[Account]:
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
            Account(
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


def cohort_accounts(rng: random.Random, ids: Ids, count: int, start: datetime) -> list[Account]:
    """New X accounts with default-looking handles, made within three days, with few followers."""
    born, taken = start - timedelta(days=9), set[str]()
    accounts = []
    for index in range(count):
        created = born + timedelta(seconds=rng.randrange(3 * 86_400))
        stem = rng.choice(COHORT_NAMES)
        handle = f"{stem}{rng.randrange(10**7, 10**8)}"[:15]
        while handle in taken:
            handle = f"{stem}{rng.randrange(10**7, 10**8)}"[:15]
        taken.add(handle)
        accounts.append(
            Account(
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
