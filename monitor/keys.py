"""Every Redis key name, in one place. Keys of one tag share the {tag} hash slot."""

from collections.abc import Sequence

from monitor import hashed

PREFIX = "hashmon"

INGEST = f"{PREFIX}:ingest"  # the stream collectors and importers publish to (its shard 0)
INGEST_SHARDS = f"{PREFIX}:ingest:shards"  # how many shards the stream has; it only grows
AGGREGATORS = "aggregators"  # the consumer group of the ingest stream
DEADLETTER = f"{PREFIX}:deadletter"
INGEST_STATS = f"{PREFIX}:ingest:stats"  # hash: posts applied by verdict, apply-latency buckets


def ingest(shard: int) -> str:
    """A shard of the ingest stream; shard 0 keeps the name of the unsharded stream. On a
    cluster the names of shards 0, 1 and 2 fall in the three thirds of the slot range."""
    return INGEST if shard == 0 else f"{INGEST}:{shard}"


def _watch(name: str) -> str:
    return f"{PREFIX}:{{watch}}:{name}"


WATCHLISTS = _watch("lists")  # set of watchlist names


def watchlist(name: str) -> str:
    """Set of normalised tags on one watchlist; all watchlist keys share the {watch} slot."""
    return _watch(f"list:{name}")


def _tag(tag: str, what: str) -> str:
    return f"{PREFIX}:{{{tag}}}:{what}"


def timeline(tag: str) -> str:
    """Sorted set: post key -> created_at in ms. Membership is the per-tag dedupe."""
    return _tag(tag, "timeline")


def records(tag: str) -> str:
    """Hashes: post key -> compact record (see monitor.signals.records), in 4,096 shards
    (monitor.hashed); earlier versions kept them whole in this one."""
    return _tag(tag, "records")


def volume(tag: str) -> str:
    """Hash: '<minute>:<kind>' and '<minute>@<platform>' -> posts."""
    return _tag(tag, "volume")


def spellings(tag: str) -> str:
    """Hash: spelling as written -> posts, for the display form."""
    return _tag(tag, "spellings")


def coindex(tag: str) -> str:
    """What each post can match on, and when: sorted sets read by lexical range, one per first
    four hex digits of a key's digest (``coindex_shard``), and this one, where earlier versions
    kept the whole index (see monitor/signals/coordinate.lua)."""
    return _tag(tag, "co:index")


def coindex_shard(tag: str, digest: str) -> str:
    return f"{coindex(tag)}:{digest[:4]}"


def cofeatures(tag: str) -> str:
    """Hashes: post key -> its coordination features (see monitor.signals.matching), in 4,096
    shards (monitor.hashed); earlier versions kept them whole in this one, as JSON."""
    return _tag(tag, "co:features")


def coorder(tag: str) -> str:
    """JSON list: the tag words its co-similar prefix order puts last (see
    monitor.signals.lastwords)."""
    return _tag(tag, "co:order")


def cosaturated(tag: str) -> str:
    """Sorted set: '<index>\0<post key>' -> time, for posts not paired on a key that was viral in
    their time bucket (see monitor/signals/coordinate.lua)."""
    return _tag(tag, "co:saturated")


def coauthors(tag: str) -> str:
    """Hash: '<co-post index>\0<content digest>\0<author>' -> that author's posts with the key."""
    return _tag(tag, "co:authors")


def cocopies(tag: str) -> str:
    """Sorted set: '<co-post index>\0<content digest>' -> distinct accounts that posted it."""
    return _tag(tag, "co:copies")


def copairs(tag: str, index: str) -> str:
    """Sorted set: matching post pairs of one coordination index, scored by the earlier post
    (co-post and co-link pairs both rules give: in the extended set only, marked)."""
    return _tag(tag, f"co:pairs:{index}")


def revision(tag: str) -> str:
    """Counter: goes up each time the apply script changes the tag's state."""
    return _tag(tag, "revision")


def reports(tag: str) -> str:
    """Hash: 'revision' -> the revision the reports were built at; report parameters -> the
    report as JSON (see monitor.reports.ready)."""
    return _tag(tag, "reports")


def report_claim(tag: str, revision: bytes) -> str:
    """Set by the one reporter that rebuilds a tag's standing reports at one revision."""
    return _tag(tag, f"reports:claim:{revision.decode()}")


# The coordination indexes a report's networks read, as pair logs (monitor/signals/pairlog.lua).
LOGGED = ("co-post:extended", "co-repost", "co-link:extended", "co-reply", "co-similar:extended")
TALLIES = (
    *("counts", "totals", "accounts", "talk", "urls", "cotags", "minutes", "times", "created"),
    *("series", "names", *(f"log:{index}" for index in LOGGED)),
)


def tally(tag: str, what: str) -> str:
    """What a tag's report shows over everything it retains, kept as posts arrive and leave:
    one of TALLIES (see monitor/signals/tally.lua)."""
    return _tag(tag, f"tally:{what}")


def tally_times(tag: str, account_id: str) -> str:
    """The shard of a tag's 'times' tally that holds an account id's posts: one of 4,096, by the
    first three hex digits of the id's SHA-1 (see monitor/signals/tally.lua)."""
    return hashed.shard(tally(tag, "times"), account_id)


def tag_keys(tag: str, indexes: Sequence[str]) -> list[str]:
    """The keys one tag's state lives in, in the order the apply script takes them."""
    state = [timeline(tag), records(tag), volume(tag), spellings(tag)]
    coordination = [coindex(tag), cofeatures(tag), cosaturated(tag), coauthors(tag), cocopies(tag)]
    pairs = [copairs(tag, name) for name in indexes]
    return [*state, *coordination, *pairs, *(tally(tag, what) for what in TALLIES), revision(tag)]


def heartbeat(role: str, name: str) -> str:
    return f"{PREFIX}:heartbeat:{role}:{name}"


def heartbeat_pattern(role: str) -> str:
    return f"{PREFIX}:heartbeat:{role}:*"


ROLES = f"{PREFIX}:roles"  # sorted set: '<role>:<name>' -> when its heartbeat expires (unix s)


def run_stats(run_id: str) -> str:
    """Hash of what the aggregators made of one import run's posts: new, duplicate, ..."""
    return f"{PREFIX}:run:{run_id}"


def _sources(what: str) -> str:
    return f"{PREFIX}:{{sources}}:{what}"


SOURCES = _sources("all")  # hash: source name -> its settings (JSON); no credentials


def cursors(source: str) -> str:
    """Hash: normalised tag -> where collection of that tag from this source stands (JSON)."""
    return _sources(f"cursor:{source}")


def source_health(source: str) -> str:
    """Hash: last success and last error of a source, posts collected, newest post time."""
    return _sources(f"health:{source}")


def lease(source: str, tag: str) -> str:
    """Held by the one collector working a (source, tag) cursor; '*' for a whole source."""
    return _sources(f"lease:{source}\0{tag}")


def lease_pattern() -> str:
    return _sources("lease:*")


def lease_parts(key: str) -> tuple[str, str]:
    """(source, tag) of a lease key."""
    source, _, tag = key.removeprefix(_sources("lease:")).partition("\0")
    return source, tag


BLUESKY_TAGS = _sources("bluesky:tags")  # hash: AT URI of a post with a watched tag -> its tags
BLUESKY_TAG_TIMES = _sources("bluesky:tag-times")  # zset: the same URIs -> post time, for expiry


def _digests(what: str) -> str:
    return f"{PREFIX}:{{digests}}:{what}"


DIGESTS = _digests("all")  # hash: digest id -> its settings (JSON)


def digest_claim(digest_id: str, period: int) -> str:
    """Set by the one process that writes a digest's report for one period."""
    return _digests(f"claim:{digest_id}:{period}")


def _alerts(what: str) -> str:
    return f"{PREFIX}:{{alerts}}:{what}"


ALERTS = _alerts("all")  # hash: alert id -> its rule (JSON)
ALERT_DELIVERIES = _alerts("deliveries")  # stream: one entry per delivery, with its outcome


def alert_seen(alert_id: str, event_key: str) -> str:
    """Set by the one process that delivers an event of a rule."""
    return _alerts(f"seen:{alert_id}:{event_key}")


def alert_cooling(alert_id: str, tag: str, kind: str) -> str:
    """Present while a rule cools down for one tag and kind of event."""
    return _alerts(f"cooling:{alert_id}:{tag}:{kind}")


POST_SHARDS = 64  # the post store's slots: spread over a cluster's nodes
POST_SUBSHARDS = 64  # hashes a slot: 4,096 in all, small enough that Redis keeps them compact


def posts(shard: int, what: str, sub: int | None = None) -> str:
    """The post store (monitor.poststore): hashes 'bodies' (post key -> what it says) and
    'holders' (post key -> its time and the tags that hold it), POST_SUBSHARDS pairs per shard
    and slot; without ``sub``, the one pair a shard had in earlier versions."""
    whole = f"{PREFIX}:{{posts:{shard}}}:{what}"
    return whole if sub is None else f"{whole}:{sub:02x}"


POSTS_SWEEP = f"{PREFIX}:posts:sweep"  # hash: the hash and HSCAN cursor the sweep goes on from
