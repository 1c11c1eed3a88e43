"""The tag words a tag's co-similar prefix order puts last, fixed when its first post comes.

Prefix filtering (monitor.signals.matching) finds every similar pair only under one fixed token
order per index. A word in nearly every post of a tag (the tag itself, or another watched tag its
posts carry, as this campaign's carry four) brings every post near in time as a candidate while
it is in a prefix: on 200,000 posts on three watched tags a post cost 2,100 µs of Redis CPU with
the other tags' words in its prefixes, 620 with them last. So a tag's order puts last the words
of every tag watched when its first post is applied, kept with the tag and never changed after:
its index holds posts in that order. A tag that had posts before versions that kept this puts its
own word last, as they did.
"""

from collections.abc import Collection

import orjson
from redis.asyncio import Redis

from monitor import connection, keys

# KEYS: the tag's order, its timeline. ARGV: its own word only (JSON), the watched tags (JSON).
_SCRIPT = """
local found = redis.call('GET', KEYS[1])
if found then return found end
found = redis.call('EXISTS', KEYS[2]) == 1 and ARGV[1] or ARGV[2]
redis.call('SET', KEYS[1], found)
return found
"""


async def of(
    redis: Redis, tags: Collection[str], watched: Collection[str]
) -> dict[str, frozenset[str]]:
    """Each tag's last words, fixed now where the tag has none yet."""
    everyone = orjson.dumps(sorted(watched))
    calls = [([keys.coorder(tag), keys.timeline(tag)], [orjson.dumps([tag]), everyone])
             for tag in tags]  # fmt: skip
    answers = await connection.run_scripts(redis, connection.script(redis, _SCRIPT), calls)
    return {tag: frozenset(orjson.loads(raw)) for tag, raw in zip(tags, answers, strict=True)}
