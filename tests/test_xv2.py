"""X API v2 -> Post: the mapping rules on small pages, then on real twarc2 output."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.models import Post
from monitor.xv2 import post_from_flat, posts_from_page

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "data" / "twarc2"
FIXTURES = SHARED / "platforms" / "fixtures" / "twarc2"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")
Json = dict[str, Any]  # Any: decoded JSON, as the mapping receives it

USERS = [
    {
        "id": "10",
        "username": "alice",
        "name": "Alice",
        "created_at": "2019-01-02T03:04:05.000Z",
        "public_metrics": {"followers_count": 42},
    },
    {"id": "20", "username": "bob", "name": "Bob"},
]


def tweet(tweet_id: str = "1", text: str | None = "hello", **fields: object) -> Json:
    return {
        "id": tweet_id,
        "text": text,
        "author_id": "10",
        "created_at": "2019-11-27T21:31:47.000Z",
        **fields,
    }


def tags(*names: str) -> dict[str, list[dict[str, str]]]:
    return {"hashtags": [{"tag": name} for name in names]}


def one(page: Json) -> Post:
    (post,) = posts_from_page(page)
    return post


def test_original_maps_every_field() -> None:
    entities = {
        **tags("IRGCOutOfIraq"),
        "mentions": [{"username": "bob"}, {"username": "bob"}],
        "urls": [
            {"expanded_url": "https://t.co/x", "unwound_url": "https://example.org/a"},
            {"expanded_url": "https://x.com/alice/status/1/photo/1"},
        ],
    }
    text = "#IRGCOutOfIraq and #BlackListMOIS #irgcoutofiraq @bob"
    post = one(
        {"data": [tweet(text=text, entities=entities, lang="fa")], "includes": {"users": USERS}}
    )
    assert post.platform == "x"
    assert post.url == "https://x.com/alice/status/1"
    assert (post.author_id, post.author_handle, post.author_name) == ("10", "alice", "Alice")
    assert post.author_created_at == datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert post.author_followers == 42
    assert post.created_at == datetime(2019, 11, 27, 21, 31, 47, tzinfo=UTC)
    assert post.hashtags == ["IRGCOutOfIraq", "BlackListMOIS", "irgcoutofiraq"]
    assert post.links == ["https://example.org/a", "https://x.com/alice/status/1/photo/1"]
    assert post.mentions == ["bob"]
    assert (post.kind, post.referenced_id, post.lang) == ("original", None, "fa")


def test_stream_object_has_one_tweet_in_data() -> None:
    post = one({"data": tweet(), "matching_rules": [{"id": "1", "tag": "x"}]})
    assert post.url == "https://x.com/i/web/status/1"
    assert post.author_handle is None


def test_repost_carries_the_tags_of_its_original() -> None:
    original = tweet("2", "#Full #Tags", author_id="20", entities=tags("Full", "Tags"))
    retweet = tweet(
        text="RT @bob: #Full #Ta…",
        entities=tags("Full"),
        referenced_tweets=[{"type": "retweeted", "id": "2"}],
    )
    post = one({"data": [retweet], "includes": {"users": USERS, "tweets": [original]}})
    assert (post.kind, post.hashtags) == ("repost", ["Full", "Tags"])
    assert (post.referenced_id, post.referenced_author_id) == ("2", "20")
    assert post.referenced_url == "https://x.com/bob/status/2"


def test_repost_of_a_deleted_original_keeps_its_own_whole_tags() -> None:
    retweet = tweet(
        text="RT @bob: #Full #Ta…",
        entities=tags("Full"),
        referenced_tweets=[{"type": "retweeted", "id": "2"}],
    )
    errors = [{"resource_type": "tweet", "resource_id": "2", "title": "Not Found Error"}]
    post = one({"data": [retweet], "errors": errors})
    assert (post.kind, post.hashtags, post.referenced_author_id) == ("repost", ["Full"], None)
    assert post.referenced_url == "https://x.com/i/web/status/2"


def test_reply_and_quote_carry_only_their_own_tags() -> None:
    quoted = tweet("2", "#Theirs", author_id="20", entities=tags("Theirs"))
    reply = tweet(
        "3",
        "@bob #Mine",
        in_reply_to_user_id="20",
        referenced_tweets=[{"type": "replied_to", "id": "9"}],
    )
    quote = tweet("4", "#Mine", referenced_tweets=[{"type": "quoted", "id": "2"}])
    page = {"data": [reply, quote], "includes": {"users": USERS, "tweets": [quoted]}}
    got = {post.id: post for post in posts_from_page(page)}
    assert (got["3"].kind, got["3"].hashtags) == ("reply", ["Mine"])
    assert (got["3"].referenced_author_id, got["3"].referenced_url) == (
        "20",
        "https://x.com/bob/status/9",
    )  # the replied-to tweet is missing: its author comes from in_reply_to_user_id
    assert (got["4"].kind, got["4"].hashtags, got["4"].referenced_author_id) == (
        "quote",
        ["Mine"],
        "20",
    )


def test_kind_precedence_retweet_then_reply_then_quote() -> None:
    both = [{"type": "quoted", "id": "2"}, {"type": "replied_to", "id": "3"}]
    assert one({"data": [tweet(referenced_tweets=both)]}).kind == "reply"
    all_three = [*both, {"type": "retweeted", "id": "4"}]
    assert one({"data": [tweet(referenced_tweets=all_three)]}).kind == "repost"


def test_unsafe_username_gives_the_web_form() -> None:
    users = [{"id": "10", "username": "../evil"}]
    assert one({"data": [tweet()], "includes": {"users": users}}).url == (
        "https://x.com/i/web/status/1"
    )


def test_pages_without_tweets_give_nothing() -> None:
    assert posts_from_page({"errors": [{"title": "operational-disconnect"}]}) == []
    assert posts_from_page({"meta": {"result_count": 0}}) == []
    assert posts_from_page({"data": []}) == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"text": "x", "author_id": "1", "created_at": "2019-11-27T21:31:47Z"}, "tweet without id"),
        (tweet(created_at=None), "tweet 1 without created_at"),
        (tweet(author_id=10), "tweet 1 without author_id"),
        (tweet(text=None), "tweet 1 without text"),
        (tweet(created_at="yesterday"), "tweet 1: created_at: Input should be a valid datetime"),
        (tweet("x\n" * 50, created_at="never"), "tweet 'x\\nx\\nx"),
    ],
)
def test_unusable_tweet_raises_a_short_reason(bad: Json, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        posts_from_page({"data": [bad]})
    message = str(caught.value)
    assert message.startswith(reason)
    assert "\n" not in message and len(message) < 200


@pytest.mark.parametrize("data", ["text", 7, [1], [["list"]]])
def test_malformed_data_raises(data: object) -> None:
    with pytest.raises(ValueError):
        posts_from_page({"data": data})


def test_flat_tweet_with_missing_expansions() -> None:
    flat = tweet(
        text="RT @bob: #Own",
        author={},
        entities=tags("Own"),
        referenced_tweets=[{"type": "retweeted", "id": "2"}],
    )
    post = post_from_flat(flat)
    assert (post.url, post.author_handle) == ("https://x.com/i/web/status/1", None)
    assert (post.kind, post.hashtags, post.referenced_author_id) == ("repost", ["Own"], None)


def test_flat_tweet_with_inlined_expansions() -> None:
    original = tweet("2", "#Theirs", author_id="20", author=USERS[1], entities=tags("Theirs"))
    flat = tweet(
        text="RT @bob: #The…",
        author=USERS[0],
        referenced_tweets=[{"type": "retweeted", **original}],
    )
    post = post_from_flat(flat)
    assert (post.author_handle, post.author_followers, post.hashtags) == ("alice", 42, ["Theirs"])
    assert post.referenced_url == "https://x.com/bob/status/2"


# Real twarc2 output


def page_posts(path: Path, line: int = 1) -> dict[str, Post]:
    raw = path.read_text(encoding="utf-8").splitlines()[line - 1]
    return {post.id: post for post in posts_from_page(json.loads(raw))}


def flat_posts(path: Path) -> dict[str, Post]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {post.id: post for post in map(post_from_flat, map(json.loads, lines))}


@needs_shared
def test_real_retweet_carries_the_tag_of_its_original() -> None:
    post = page_posts(DATA / "two_tweets.jsonl")["1394735776701816833"]
    assert (post.kind, post.hashtags) == ("repost", ["POIUYTREWQ"])
    assert post.referenced_url == "https://x.com/bibaigna96/status/1391677057810288641"
    assert post.url == "https://x.com/LachiVeronica/status/1394735776701816833"


@needs_shared
def test_real_tweet_repeated_in_includes_is_no_reference() -> None:
    (post,) = page_posts(DATA / "cotweet.jsonl").values()
    assert (post.kind, post.hashtags, post.author_handle) == ("original", [], "staringispolite")


@needs_shared
@pytest.mark.parametrize("form", ["noflat", "flat"])
def test_real_reply_and_quote_leave_out_the_tags_they_answer(form: str) -> None:
    path = DATA / f"{form}.jsonl"
    posts = page_posts(path) if form == "noflat" else flat_posts(path)
    reply, quote = posts["1380242254887981057"], posts["1380242005247332358"]
    assert (reply.kind, reply.hashtags) == ("reply", [])  # it answers #Dems #Communists
    assert (quote.kind, quote.hashtags) == ("quote", [])  # it quotes #TheView


@needs_shared
@pytest.mark.parametrize("name", ["searches_IRGCOutOfIraq_BlackListMOIS", "flattened"])
def test_real_persian_and_arabic_posts(name: str) -> None:
    stem = "searches_IRGCOutOfIraq_BlackListMOIS"
    if name == "flattened":
        posts = flat_posts(FIXTURES / f"{stem}.flattened.jsonl")
    else:
        posts = {}
        for line in (1, 2, 3, 4):
            posts |= page_posts(FIXTURES / f"{stem}.jsonl", line)
    repost, quote = posts["1199803024671239760"], posts["1199433141583229586"]
    assert (repost.kind, repost.hashtags) == ("repost", ["IRGCOutOfIraq", "العراق_ينتفض"])
    assert repost.referenced_url == "https://x.com/BaghdadFree19/status/1199794694782344460"
    assert (quote.kind, quote.hashtags, quote.lang) == ("quote", ["IRGCOutOfIraq"], "fa")
    assert quote.referenced_url == "https://x.com/CampaignWatch_/status/1199430184600269940"
    reply = posts["1199751216627591822"]
    assert (reply.kind, reply.referenced_author_id) == ("reply", "437128902")
    assert "\u200c" in posts["1199798587094753125"].text  # ZWNJ kept
    assert posts["1199450266924851961"].hashtags == ["BlackListMOIS", "IRGCOutOfIraq", "ایران"]


@needs_shared
def test_real_retweet_of_a_missing_original_drops_the_cut_tag() -> None:
    post = page_posts(DATA / "withheld.jsonl", line=5)["1404368973873958913"]
    assert post.text.endswith("#RelianceInfrastructure #Re…")
    assert (post.kind, post.hashtags) == ("repost", ["RelianceInfrastructure"])


def test_the_id_gives_the_millisecond_where_it_agrees_with_created_at() -> None:
    ms = int(datetime(2019, 11, 27, 21, 31, 47, tzinfo=UTC).timestamp() * 1000) + 123
    snowflake = str((ms - 1288834974657) << 22 | 4321)
    precise = one({"data": [tweet(snowflake)], "includes": {"users": USERS}})
    assert precise.created_at == datetime(2019, 11, 27, 21, 31, 47, 123_000, tzinfo=UTC)
    other = one(
        {"data": [tweet(str(int(snowflake) + (5_000 << 22)))], "includes": {"users": USERS}}
    )
    assert other.created_at == datetime(2019, 11, 27, 21, 31, 47, tzinfo=UTC)  # 5 s off: declared


def test_short_links_map_to_what_they_stand_for() -> None:
    urls = {"urls": [{"url": "https://t.co/abc", "expanded_url": "https://example.org/a",
                      "unwound_url": "https://example.org/a?x=1"}]}  # fmt: skip
    mapped = one({"data": [tweet(entities=urls)], "includes": {"users": USERS}})
    assert mapped.short_links == {"https://t.co/abc": "https://example.org/a"}
    assert mapped.links == ["https://example.org/a?x=1"]
