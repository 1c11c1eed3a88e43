"""What the top posts say and who said it: their text, author and time, and the top accounts'
display names, read from the post store (monitor.poststore) and the tag's records once the
figures have ranked them: a few dozen fields, not a pass over the posts."""

import dataclasses
from collections import Counter
from collections.abc import Sequence

from redis.asyncio import Redis

from monitor import hashed, keys, poststore
from monitor.reports import model
from monitor.reports.tallied import Head
from monitor.signals import copypaste
from monitor.signals.records import loads
from monitor.timewindow import iso


async def fill(redis: Redis, tag: str, head: Head) -> Head:
    posts = [f"{p.platform}:{p.id}" for p in head.top_posts]
    newest = {(a.platform, a.id): head.newest_posts.get((a.platform, a.id), "")
              for a in head.top_accounts}  # fmt: skip
    if not posts and not newest:
        return head
    own = await hashed.hmget(redis, keys.records(tag), posts)
    bodies = await poststore.read(redis, [*posts, *filter(None, newest.values())])
    top_posts = []
    for post, key, raw in zip(head.top_posts, posts, own, strict=True):
        record, body = raw and loads(key, raw), bodies.get(key)
        top_posts.append(post.model_copy(update={
            "text": body and body.text, "name": body and body.name,
            "handle": record and record.handle, "time": record and iso(record.t_ms),
        }))  # fmt: skip
    names = {key: body.name for key, body in bodies.items()}
    top_accounts = [a.model_copy(update={"name": names.get(newest[(a.platform, a.id)])})
                    for a in head.top_accounts]  # fmt: skip
    return dataclasses.replace(head, top_posts=top_posts, top_accounts=top_accounts)


async def variants(
    redis: Redis, clusters: Sequence[copypaste.CopyPaste]
) -> list[tuple[str | None, int, list[model.Variant]]]:
    """Per copy-paste cluster: its first post's words, its distinct texts as posted, and the
    three most posted of them (ties: the earliest posted first)."""
    bodies = await poststore.read(redis, [post for c in clusters for post in c.posts])
    found = []
    for cluster in clusters:
        texts = [body.text for post in cluster.posts if (body := bodies.get(post))]
        counts = Counter(texts)  # in order of first posting: ties keep it
        common = [model.Variant(text=text, posts=n) for text, n in counts.most_common(3)]
        first = bodies.get(cluster.posts[0])
        found.append((first.text if first else None, len(counts), common))
    return found
