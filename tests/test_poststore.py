"""What posts say, stored once: exact text, one copy for any number of tags, kept while a tag
holds the post, and shown with the top posts."""

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis as sync_redis
from redis.asyncio import Redis
from rich.console import Console

from monitor import keys, poststore, watchlist
from monitor.cli import app
from monitor.reports import render_html, render_md, render_text
from monitor.reports.build import tag_report
from monitor.settings import Settings
from tests.conftest import SHARED
from tests.factories import post
from tests.test_aggregator import aggregate
from tests.test_import_twarc2 import independent_count, report, runner

PERSIAN = "افشای حضور نیروی قدس سپاه در پروژه اربعین\u200cها در #عراق 🇮🇶 #IRGCOutOfIraq"
TAGS = ["irgcoutofiraq", "blacklistmois", "عراق"]


HASHES = [(n, s) for n in range(keys.POST_SHARDS) for s in (*range(keys.POST_SUBSHARDS), None)]


async def stored(redis: Redis, what: str = "bodies") -> dict[str, bytes]:
    """Every body (or holder) in the store, from each shard's hashes and its whole one."""
    found: dict[str, bytes] = {}
    for shard, sub in HASHES:
        raw = cast(dict[bytes, bytes], await redis.hgetall(keys.posts(shard, what, sub)))
        found.update({key.decode(): value for key, value in raw.items()})
    return found


async def to_whole(redis: Redis) -> None:
    """Moves every body and holder into the one hash of its shard earlier versions kept."""
    for shard, sub in HASHES:
        for what in ("bodies", "holders") if sub is not None else ():
            name = keys.posts(shard, what, sub)
            held = cast(dict[bytes, bytes], await redis.hgetall(name))
            if held:
                await redis.hset(keys.posts(shard, what), mapping={k: v for k, v in held.items()})
                await redis.delete(name)


async def test_a_post_on_three_tags_is_stored_once_exactly_as_posted(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", TAGS)
    text = f"{PERSIAN} #BlackListMOIS"
    one = post("1", "a", ["IRGCOutOfIraq", "BlackListMOIS", "عراق"], text=text, handle="ali")
    await aggregate(redis, settings, [one, one])
    await aggregate(redis, settings, [one])  # redelivered, re-imported: nothing more
    bodies = await stored(redis)
    assert list(bodies) == ["x:1"]
    assert poststore.loads(bodies["x:1"]).text == text  # ZWNJ, emoji and RTL text as posted
    held = await redis.hget(
        keys.posts(poststore.shard("x:1"), "holders", poststore.sub("x:1")), "x:1"
    )
    assert isinstance(held, bytes) and sorted(held.decode().split("\0")[1:]) == sorted(TAGS)


async def test_a_long_text_is_cut_and_says_so(redis: Redis, settings: Settings) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    long = "#IRGCOutOfIraq " + "و" * 20_000
    await aggregate(redis, settings, [post("1", "a", ["IRGCOutOfIraq"], text=long)])
    text = poststore.loads((await stored(redis))["x:1"]).text
    assert text.startswith(long[: poststore.MAX_TEXT])
    assert text.endswith(f" […{len(long) - poststore.MAX_TEXT:,} more characters cut]")


async def test_a_body_goes_when_the_last_tag_lets_go(redis: Redis, settings: Settings) -> None:
    settings = settings.model_copy(update={"retention_days": 1.0})
    await watchlist.add(redis, "default", ["a", "b"])
    both = post("old", "u", ["a", "b"], text="#a #b said long ago")
    await aggregate(redis, settings, [both, post("new-a", "u", ["a"], at=2 * 86_400)])
    for _ in range(poststore.STEPS_A_PASS):  # one sweep over every hash
        await poststore.sweep(redis, 86_400_000)
    assert "x:old" in await stored(redis)  # #b still holds it
    await aggregate(redis, settings, [post("new-b", "u", ["b"], at=2 * 86_400)])
    dropped = 0
    for _ in range(poststore.STEPS_A_PASS):
        dropped += await poststore.sweep(redis, 86_400_000)
    assert dropped == 1
    assert set(await stored(redis)) == {"x:new-a", "x:new-b"}


async def test_bodies_kept_whole_by_earlier_versions_are_read_moved_and_swept(
    redis: Redis, settings: Settings
) -> None:
    """Read from the one hash a shard had; moved into the post's own when a tag takes it again;
    dropped by the sweep once no tag holds it."""
    settings = settings.model_copy(update={"retention_days": 1.0})
    await watchlist.add(redis, "default", ["a", "b"])
    both = post("both", "u", ["a", "b"], text="#a #b said long ago")
    await aggregate(redis, settings, [post("old", "u", ["a"], text="#a long ago"), both])
    await to_whole(redis)
    found = await poststore.read(redis, ["x:old", "x:both"])
    assert (found["x:old"].text, found["x:both"].text) == ("#a long ago", both.text)
    await aggregate(redis, settings, [post("b1", "v", ["b"], text="#b again", at=5), both])
    whole = [keys.posts(poststore.shard("x:both"), what) for what in ("bodies", "holders")]
    assert [await redis.hexists(name, "x:both") for name in whole] == [False, False]
    assert "x:both" in await stored(redis) and "x:old" in await stored(redis)
    await aggregate(redis, settings, [post("new", "u", ["a"], text="#a now", at=2 * 86_400)])
    dropped = 0
    for _ in range(poststore.STEPS_A_PASS):
        dropped += await poststore.sweep(redis, 86_400_000)
    assert dropped == 1  # #b still holds "both"
    assert set(await stored(redis)) == {"x:both", "x:b1", "x:new"}
    assert set(await stored(redis, "holders")) == {"x:both", "x:b1", "x:new"}


async def test_top_posts_show_their_words_their_author_and_their_time(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    original = post("o", "src", ["IRGCOutOfIraq"], text=PERSIAN, handle="quds_watch").model_copy(
        update={"author_name": "Quds Watch"}
    )
    reposts = [post(f"r{n}", f"p{n}", ["IRGCOutOfIraq"], kind="repost", ref="o", at=60 + n,
                    text=PERSIAN) for n in range(3)]  # fmt: skip
    await aggregate(redis, settings, [*reposts, original])  # the original comes last
    for built in (await tag_report(redis, "irgcoutofiraq"),
                  await tag_report(redis, "irgcoutofiraq", since="1h")):  # fmt: skip
        top = built.top_posts[0]
        assert (top.id, top.people_talking, top.text) == ("o", 3, PERSIAN)
        assert (top.handle, top.name) == ("quds_watch", "Quds Watch")
        assert top.time == "2019-11-27T12:00:00Z"
        names = {account.handle: account.name for account in built.top_accounts}
        assert names["quds_watch"] == "Quds Watch" and names["userp0"] is None


async def test_a_post_gives_the_text_of_the_post_it_refers_to_until_that_arrives(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["irgcoutofiraq"])
    repost = post("r", "p", ["IRGCOutOfIraq"], kind="repost", ref="gone", text=PERSIAN)
    repost = repost.model_copy(update={"referenced_text": PERSIAN})  # as X's includes give it
    await aggregate(redis, settings, [repost])
    top = (await tag_report(redis, "irgcoutofiraq")).top_posts[0]
    assert (top.id, top.text, top.name, top.handle) == ("gone", PERSIAN, None, None)
    own = post("gone", "src", ["IRGCOutOfIraq"], text=f"{PERSIAN} (whole)", handle="src")
    await aggregate(redis, settings, [own.model_copy(update={"author_name": "Source"})])
    await aggregate(redis, settings, [repost])  # seen again: the post's own body stays
    top = (await tag_report(redis, "irgcoutofiraq")).top_posts[0]
    assert (top.id, top.text, top.name, top.handle) == (
        "gone",
        f"{PERSIAN} (whole)",
        "Source",
        "src",
    )


Json = dict[str, Any]  # Any: decoded JSON, walked as plain dicts


def _pages(path: Path) -> Iterator[tuple[list[Json], Json]]:
    """Each line's tweets (a page's data, or one flattened tweet) and its includes, read with
    plain json; the truncated last line is passed over."""
    for raw in path.read_bytes().splitlines():
        try:
            page = json.loads(raw)
        except ValueError:
            continue
        data = page.get("data", page)
        yield (data if isinstance(data, list) else [data]), page.get("includes") or {}


def _full_texts(path: Path) -> dict[str, str]:
    """Tweet id -> its whole text, from every tweet object in the file."""
    texts: dict[str, str] = {}
    for tweets, includes in _pages(path):
        refs = [r for tweet in tweets for r in tweet.get("referenced_tweets", [])]
        for tweet in [*tweets, *includes.get("tweets", []), *refs]:
            if "text" in tweet:
                whole = (tweet.get("note_tweet") or {}).get("text") or tweet["text"]
                texts.setdefault(tweet["id"], whole)
    return texts


REAL = sorted(SHARED.glob("data/twarc2/*.jsonl"))


@pytest.mark.skipif(not REAL, reason=f"no twarc2 files under {SHARED}")
def test_on_real_archives_top_posts_say_what_the_tweets_said(
    cli_env: dict[str, str], sync_client: sync_redis.Redis
) -> None:
    env = {**cli_env, "HASHMON_RETENTION_DAYS": "100000"}  # keep every year of the archives
    checked = 0
    for path in REAL:
        sync_client.flushdb()
        texts, tags = _full_texts(path), sorted(independent_count(path))[:20]
        if not tags:
            continue
        assert runner.invoke(app, ["watch", "add", *tags], env=env).exit_code == 0
        assert runner.invoke(app, ["import", str(path)], env=env).exit_code == 0
        for tag in tags:
            for top in report(env, tag)["top_posts"]:  # type: ignore[attr-defined]
                assert top["text"] == texts.get(top["id"]), (path.name, tag, top["id"])
                checked += top["text"] is not None  # None: the file holds no copy of it
    assert checked > 20


HOSTILE = '<script>alert(1)</script> =HYPERLINK("https://evil.example") \x1b[31mred\u202eevil'


async def test_hostile_words_and_names_are_neutralised_in_every_format(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["a"])
    text = f"#a {HOSTILE} " + "x" * 100_000
    original = post("o", "src", ["a"], text=text, handle="src")
    original = original.model_copy(update={"author_name": HOSTILE})
    reposts = [post(f"r{n}", f"p{n}", ["a"], kind="repost", ref="o", at=60 + n) for n in range(2)]
    await aggregate(redis, settings, [original, *reposts])
    report = await tag_report(redis, "a")
    top = report.top_posts[0]
    assert top.text == poststore.cut(text) and top.name == HOSTILE  # JSON: whole, as posted
    page, markdown = render_html.tag_report(report), render_md.tag_report(report)
    console = Console(file=io.StringIO(), width=300, force_terminal=True, color_system=None)
    console.print(render_text.tag_report(report))
    shown = console.file.getvalue()  # type: ignore[attr-defined]  # the StringIO above
    for rendered in (page, markdown, shown):
        assert "\x1b[31m" not in rendered and "\u202e" not in rendered
        assert "x" * 1_000 not in rendered  # shortened in tables
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in markdown and r"\<script\>" in markdown
    assert 'dir="auto"' in page


def test_evidence_and_networks_show_words_and_names(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    said = [f"{PERSIAN} نوبت {n}" for n in range(2)]
    posts = [post(f"{who}{n}", who, ["IRGCOutOfIraq"], text=said[n], at=n * 600 + offset)
             for n in range(2) for who, offset in (("a", 0), ("b", 20))]  # fmt: skip
    archive = tmp_path / "posts.jsonl"
    named = [p.model_copy(update={"author_name": f"Name {p.author_id}"}) for p in posts]
    archive.write_text("".join(p.model_dump_json() + "\n" for p in named))
    assert runner.invoke(app, ["import", str(archive), "--tag", "#IRGCOutOfIraq"],
                         env=cli_env).exit_code == 0  # fmt: skip
    asked = ["network", "#IRGCOutOfIraq", "--behaviour", "co-post", "--min-weight", "1"]
    network = runner.invoke(app, [*asked, "--format", "json"], env=cli_env)
    assert network.exit_code == 0, network.output
    nodes = {node["id"]: node["name"] for node in json.loads(network.output)["nodes"]}
    assert nodes == {"a": "Name a", "b": "Name b"}
    result = runner.invoke(app, ["evidence", "#IRGCOutOfIraq", "a", "b", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.output)
    assert {(p["first"]["text"], p["second"]["text"]) for p in pairs} == {
        (said[0], said[0]), (said[1], said[1])
    }  # fmt: skip
    table = runner.invoke(app, ["evidence", "#IRGCOutOfIraq", "@usera", "@userb"], env=cli_env)
    assert table.exit_code == 0 and said[0] in table.output and said[1] in table.output


async def test_copy_paste_clusters_show_the_words_as_first_posted_and_their_variants(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["a"])
    first = "#a اربعین‌ها IRGC Out Of Iraq"  # with its ZWNJ, as posted
    said = [first, "#a اربعینها irgc out of iraq", "#a اربعین‌ها IRGC OUT OF IRAQ", first, first]
    await aggregate(redis, settings, [post(f"p{n}", f"u{n}", ["a"], text=text, at=n * 3600)
                                      for n, text in enumerate(said)])  # fmt: skip
    [cluster] = (await tag_report(redis, "a")).coordination.copy_paste  # type: ignore[union-attr]
    assert (cluster.accounts, cluster.first_text, cluster.variants) == (5, first, 3)
    assert [(v.text, v.posts) for v in cluster.common_variants] == [
        (first, 3), (said[1], 1), (said[2], 1)
    ]  # fmt: skip
    assert cluster.text != first  # the key it matched on is normalised; the words are not


async def test_a_text_with_a_trailing_emoji_or_mark_is_the_same_copied_text(
    redis: Redis, settings: Settings
) -> None:
    await watchlist.add(redis, "default", ["a"])
    base = "#a The Quds Force must leave Iraq"
    endings = [""] * 7 + [" 🇮🇶"] * 5 + ["!"] * 5 + [" 👍🏽‼️"] * 3
    await aggregate(redis, settings, [post(f"p{n}", f"u{n}", ["a"], text=base + end, at=n * 900)
                                      for n, end in enumerate(endings)])  # fmt: skip
    [cluster] = (await tag_report(redis, "a")).coordination.copy_paste  # type: ignore[union-attr]
    assert (cluster.accounts, cluster.variants, cluster.first_text) == (20, 4, base)
    assert [v.posts for v in cluster.common_variants] == [7, 5, 5]


def _media(path: Path) -> dict[str, list[str]]:
    """Tweet id -> its attachments' URLs (a video's preview image)."""
    found: dict[str, list[str]] = {}
    for tweets, includes in _pages(path):
        media = {m["media_key"]: m for m in includes.get("media", [])}
        for tweet in tweets:
            attached = tweet.get("attachments") or {}
            inline = {m["media_key"]: m for m in attached.get("media", [])}
            shown = [(media | inline).get(key, {}) for key in attached.get("media_keys", [])]
            urls = [m.get("url") or m.get("preview_image_url") for m in shown]
            found[tweet["id"]] = [url for url in dict.fromkeys(urls) if url]
    return found


@pytest.mark.skipif(not REAL, reason=f"no twarc2 files under {SHARED}")
def test_on_real_archives_posts_keep_their_media(
    cli_env: dict[str, str], sync_client: sync_redis.Redis, tmp_path: Path
) -> None:
    env = {**cli_env, "HASHMON_RETENTION_DAYS": "100000"}
    checked = 0
    for path in REAL:
        sync_client.flushdb()
        media, tags = _media(path), sorted(independent_count(path))[:40]
        if not tags:
            continue
        assert runner.invoke(app, ["watch", "add", *tags], env=env).exit_code == 0
        assert runner.invoke(app, ["import", str(path)], env=env).exit_code == 0
        for tag in tags:
            out = tmp_path / "out.jsonl"
            done = runner.invoke(app, ["export", "posts", tag, "-f", "jsonl", "-o", str(out)],
                                 env=env)  # fmt: skip
            assert done.exit_code == 0, done.output
            for line in out.read_text().splitlines():
                exported = json.loads(line)
                assert exported["media"] == media[exported["id"]], (path.name, exported["id"])
                checked += bool(exported["media"])
    assert checked >= 10  # posts with media among those compared
