"""The words of the sample: texts and names from sample_texts.toml, and how a text is put together.

The data file is read once, on import, and checked, so a bad edit fails here and not mid-sample.
"""

import itertools
import random
import tomllib
from datetime import UTC, datetime
from pathlib import Path

_SOURCE = Path(__file__).resolve().parent / "sample_texts.toml"
_DATA = tomllib.loads(_SOURCE.read_text(encoding="utf-8"))
_PROTESTS_BEGAN = datetime(2019, 10, 1, tzinfo=UTC)

# Campaign tags, their weights, and the rarer spellings people also use.
_CAMPAIGN = {
    "IRGCOutOfIraq": (0.45, ("irgcoutofiraq", "IrgcOutOfIraq")),
    "BlackListIRGC": (0.22, ("BlacklistIRGC", "blacklistirgc")),
    "IRGCTerrorists": (0.20, ("IRGCterrorists", "irgcterrorists")),
    "BlackListMOIS": (0.13, ("BlacklistMOIS", "blacklistmois")),
}
_TAG_NAMES = tuple(_CAMPAIGN)
_TAG_CUM_WEIGHTS = tuple(itertools.accumulate(weight for weight, _ in _CAMPAIGN.values()))


def _at(path: str, value: object = _DATA) -> object:
    """The value at a dotted path, or an error that names the path rather than a bare KeyError."""
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ValueError(f"{_SOURCE.name}: {path} is missing")
        value = value[key]
    return value


def _string(path: str, value: object = _DATA) -> str:
    found = _at(path, value)
    if not isinstance(found, str):
        raise ValueError(f"{_SOURCE.name}: {path} should be a string")
    return found


def _strings(path: str, value: object = _DATA) -> tuple[str, ...]:
    found = _at(path, value)
    if not isinstance(found, list) or not all(isinstance(item, str) for item in found):
        raise ValueError(f"{_SOURCE.name}: {path} should be an array of strings")
    return tuple(found)


def _by_lang(path: str) -> dict[str, tuple[str, ...]]:
    found = _at(path)
    if not isinstance(found, dict):
        raise ValueError(f"{_SOURCE.name}: {path} should be a table")
    return {lang: _strings(f"{path}.{lang}") for lang in found}


def _copies() -> list[object]:
    found = _at("cohort.copies")
    if not isinstance(found, list) or not found:
        raise ValueError(f"{_SOURCE.name}: cohort.copies should be a non-empty array of tables")
    return found


CO_TAGS = _by_lang("co_tags")
SENTENCES = _by_lang("sentences")
OPENERS = _by_lang("openers")
CLOSERS = _by_lang("closers")
REPLIES = _by_lang("replies")
LINK_HOSTS = _strings("links.hosts")
SLUGS = _strings("links.slugs")
FIRST = _strings("names.first")
LAST = _strings("names.last")
NATIVE = _by_lang("names.native")
COHORT_NAMES = _strings("cohort.names")
COHORT_LINK = _string("cohort.link")
SEED_TEXT = _string("cohort.seed_text").format(link=COHORT_LINK)
COPY_SUFFIXES = _strings("cohort.copy_suffixes")
COPY_TEXTS = tuple(_string("text", copy).format(link=COHORT_LINK) for copy in _copies())
COPY_LANGS = tuple(_string("lang", copy) for copy in _copies())


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
    return spelled + rng.sample(CO_TAGS[lang], 0 if draw < 0.4 else 1 if draw < 0.8 else 2)


def news_link(rng: random.Random) -> str:
    """A made-up news story on an example domain."""
    host = rng.choice(LINK_HOSTS)
    return host.format(slug=rng.choice(SLUGS), n=rng.randrange(10_000, 99_999))


def compose(rng: random.Random, lang: str, when: datetime, body: str, tags: bool) -> str:
    """Opener, body, closer and tags, with the tags at the end or up front."""
    day = (when - _PROTESTS_BEGAN).days + 1
    parts = [rng.choice(OPENERS[lang]), body, rng.choice(CLOSERS[lang]).format(day=day)]
    tag_text = " ".join("#" + tag for tag in _campaign_tags(rng, lang)) if tags else ""
    if tag_text and rng.random() < 0.25:
        parts.insert(0, tag_text)
    else:
        parts.append(tag_text)
    return " ".join(part for part in parts if part)
