"""Tag reports kept ready, so that reading one does not cost a pass over the tag's posts.

A tag report is a function of the tag's state, its parameters and the hashmon version alone
(windows count back from the tag's newest post, never from the clock). The apply script counts
every change of a tag's state in its revision, so a report built at the current revision is the
very report a fresh build would give. Reports are kept per tag with the revision they were
built at; a change of revision makes them all stale at once. The reporter role rebuilds the
standing reports after each change; any other report is kept when first built.
"""

from dataclasses import dataclass

from redis.asyncio import Redis

from monitor import keys
from monitor.reports import build
from monitor.reports.model import TagReport

MAX_KEPT = 32  # reports kept per tag and revision; past it, others are built but not kept

_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('HGET', KEYS[2], 'revision') ~= ARGV[1] then
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[2], 'revision', ARGV[1])
end
if redis.call('HLEN', KEYS[2]) > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


@dataclass(frozen=True)
class Params:
    since: str | None = None
    until: str | None = None
    top: int = 10

    @property
    def field(self) -> str:
        return f"{build.GENERATED_BY}|{self.since or ''}|{self.until or ''}|{self.top}"


# What the dashboard and a plain `hashmon report` ask for: kept current by the reporter role.
STANDING = (Params(), Params(since="24h"))


async def revision(redis: Redis, tag: str) -> bytes | None:
    found = await redis.get(keys.revision(tag))
    return found.encode() if isinstance(found, str) else found


async def kept(redis: Redis, tag: str, params: Params) -> TagReport | None:
    """The report kept for these parameters, when it was built at the tag's current revision."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.revision(tag))
        pipe.hmget(keys.reports(tag), ["revision", params.field])
        current, (built_at, body) = await pipe.execute()
    if current is None or body is None or built_at != current:
        return None
    return TagReport.model_validate_json(body)


async def tag_report(
    redis: Redis, tag: str, since: str | None = None, until: str | None = None, top: int = 10
) -> TagReport:
    """The kept report when it is current, else a fresh build, kept for the next reader."""
    params = Params(since, until, top)
    found = await kept(redis, tag, params)
    return found if found is not None else await refresh(redis, tag, params)


async def refresh(redis: Redis, tag: str, params: Params) -> TagReport:
    """Build the report and keep it, unless the tag changed while it was being built (then the
    report mixes two revisions and is only returned)."""
    before = await revision(redis, tag)
    report = await build.tag_report(redis, tag, params.since, params.until, params.top)
    if before is not None:
        body = report.model_dump_json(by_alias=True)
        await redis.eval(
            _KEEP, 2, keys.revision(tag), keys.reports(tag), before, params.field, body, MAX_KEPT
        )
    return report


async def stale(redis: Redis, tag: str) -> list[Params]:
    """The standing reports of a tag that are missing or older than its state."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(keys.revision(tag))
        pipe.hmget(keys.reports(tag), ["revision", *(p.field for p in STANDING)])
        current, (built_at, *bodies) = await pipe.execute()
    if current is None:
        return []
    return [p for p, body in zip(STANDING, bodies, strict=True) if built_at != current or not body]
