"""Mastodon statuses to posts, and each platform's rate-limit headers to a wait."""

from datetime import UTC, datetime

import pytest

from monitor.platforms import feeds, html, mastodon, ratelimit
from tests.fakes import mastodon as fake

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
NIKA = fake.Author("nika_azadi", "نیکا آزادی ✊", local_id="388102", followers=1377)
OMAR = fake.Author("omar", "Omar", host="toot.example.net", local_id="9")


def test_an_original_in_persian_keeps_text_tags_links_and_account() -> None:
    status = fake.status(
        NIKA, "سپاه باید برود. مردم یک‌صدا می‌گویند", ["IRGCOutOfIraq", "Iran"], at=AT,
        sequence=1, lang="fa", link="https://news.example.org/a?b=1&c=2",
    )  # fmt: skip
    post = mastodon.post_from_status(status, "https://mastodon.example")
    assert post.id == status["uri"] and post.platform == "mastodon"
    assert post.text.startswith("سپاه باید برود. مردم یک‌صدا می‌گویند #IRGCOutOfIraq #Iran")
    assert post.hashtags == ["IRGCOutOfIraq", "Iran"]
    assert post.links == ["https://news.example.org/a?b=1&c=2"]
    assert post.author_id == "https://mastodon.example/users/nika_azadi"
    assert post.author_handle == "nika_azadi@mastodon.example"
    assert (post.author_name, post.author_followers, post.lang) == ("نیکا آزادی ✊", 1377, "fa")
    assert post.created_at == AT and post.kind == "original"


def test_a_boost_is_a_repost_carrying_the_boosted_tags() -> None:
    original = fake.status(OMAR, "الحرس الثوري", ["BlackListMOIS"], at=AT, sequence=1, lang="ar")
    boost = fake.status(NIKA, "", [], at=AT, sequence=2, boost_of=original)
    post = mastodon.post_from_status(boost, "https://mastodon.example")
    assert post.kind == "repost" and post.hashtags == ["BlackListMOIS"]
    assert post.referenced_id == original["uri"]
    assert post.referenced_author_id == "https://toot.example.net/users/omar"
    assert post.url == original["url"]  # a boost has no page of its own
    assert post.id.endswith("/activity")
    assert post.text == post.referenced_text == "الحرس الثوري #BlackListMOIS"  # what it repeats
    assert post.referenced_author_name == "Omar"


def test_media_attachments_are_kept_by_their_urls() -> None:
    status = fake.status(NIKA, "عکس", ["IRGCOutOfIraq"], at=AT, sequence=1)
    status["media_attachments"] = [
        {"type": "image", "url": "https://files.example/a.jpg"},
        {"type": "video", "url": None, "remote_url": None},
    ]
    post = mastodon.post_from_status(status, "https://mastodon.example")
    assert post.media == ["https://files.example/a.jpg"]
    boost = fake.status(OMAR, "", [], at=AT, sequence=2, boost_of=status)
    assert mastodon.post_from_status(boost, "https://mastodon.example").media == post.media


def test_a_reply_references_its_parent_only_when_it_was_fetched() -> None:
    parent = fake.status(OMAR, "root", ["Iraq"], at=AT, sequence=1)
    reply = fake.status(NIKA, "reply", ["Iraq"], at=AT, sequence=2, reply_to=parent)
    with_parent = mastodon.post_from_status(reply, "https://mastodon.example", parent)
    assert (with_parent.kind, with_parent.referenced_id) == ("reply", parent["uri"])
    without = mastodon.post_from_status(reply, "https://mastodon.example")
    assert (without.kind, without.referenced_id) == ("reply", None)


def test_html_becomes_the_text_a_reader_sees() -> None:
    content = (
        '<p>First line<br>second &amp; <a href="https://x.example/tags/a" class="mention hashtag">'
        '#<span>a</span></a></p><p><span class="invisible">https://</span>'
        '<span class="ellipsis">example.org/long</span><span class="invisible">/rest</span></p>'
    )
    assert html.text_of(content) == ("First line\nsecond & #a\n\nhttps://example.org/long/rest")


def test_a_content_warning_precedes_the_text() -> None:
    status = fake.status(NIKA, "body", ["Iraq"], at=AT, sequence=1)
    status["spoiler_text"] = "CW: violence"
    assert mastodon.post_from_status(status, "https://m.example").text.startswith(
        "CW: violence\n\nbody"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uri": None}, "status without uri"),
        ({"created_at": None}, "created_at: Input should be a valid datetime"),
        ({"created_at": "yesterday"}, "created_at: Input should be a valid datetime"),
        ({"account": {}}, "author_id: String should have at least 1 character"),
    ],
)
def test_a_broken_status_is_refused_with_one_line(change: dict[str, object], message: str) -> None:
    status = {**fake.status(NIKA, "x", ["Iraq"], at=AT, sequence=1), **change}
    with pytest.raises(ValueError, match=message) as raised:
        mastodon.post_from_status(status, "https://m.example")
    assert "\n" not in str(raised.value)


def test_a_status_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        mastodon.post_from_status(["a list"], "https://m.example")


DATE = "Wed, 27 Nov 2019 21:19:41 GMT"  # the server's clock, whatever ours says


@pytest.mark.parametrize(
    ("reader", "headers", "expected"),
    [
        (ratelimit.mastodon, {"Date": DATE, "X-RateLimit-Remaining": "0",
                              "X-RateLimit-Reset": "2019-11-27T21:20:00.000000Z"}, (0, 19.0)),
        (ratelimit.bluesky, {"Date": DATE, "RateLimit-Remaining": "2",
                             "RateLimit-Reset": "1574889611"}, (2, 30.0)),
        (ratelimit.x, {"Date": DATE, "x-rate-limit-remaining": "449",
                       "x-rate-limit-reset": "1574889641"}, (449, 60.0)),
        (ratelimit.reddit, {"x-ratelimit-remaining": "996.0", "x-ratelimit-reset": "412"},
         (996, 412.0)),
        (ratelimit.mastodon, {"X-RateLimit-Remaining": "many", "X-RateLimit-Reset": "soon"},
         (None, None)),
        (ratelimit.bluesky, {"RateLimit-Reset": "nan"}, (None, None)),
        (ratelimit.mastodon, {}, (None, None)),
    ],
)  # fmt: skip
def test_rate_limit_headers(
    reader: ratelimit.Reader, headers: dict[str, str], expected: tuple[int | None, float | None]
) -> None:
    limit = reader(headers)
    assert (limit.remaining, limit.reset_s) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), ("Wed, 27 Nov 2019 21:20:41 GMT", 60.0), ("-5", 0.0), ("later", None)],
)
def test_retry_after_in_seconds_or_as_a_date(value: str, expected: float | None) -> None:
    assert ratelimit.retry_after({"Date": DATE, "Retry-After": value}) == expected


def test_a_feed_entry_without_a_time_is_refused_and_the_rest_read() -> None:
    document = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>https://news.example.org/</link>"
        b"<item><guid>a</guid><link>https://news.example.org/a</link>"
        b"<description>no date #IRGCOutOfIraq</description></item>"
        b"<item><guid>b</guid><link>https://news.example.org/b</link>"
        b"<pubDate>Wed, 27 Nov 2019 21:14:09 +0000</pubDate>"
        b"<description>&lt;p&gt;dated #IRGCOutOfIraq&lt;/p&gt;</description>"
        b"<category>BlackListMOIS</category></item></channel></rss>"
    )
    feed = feeds.parse(document, "https://news.example.org/feed")
    assert feed.refused == ["entry 'a': no published or updated time"]
    [post] = feed.posts
    assert (post.id, post.text, post.hashtags) == ("b", "dated #IRGCOutOfIraq",
                                                   ["BlackListMOIS", "IRGCOutOfIraq"])  # fmt: skip
    assert post.author_id == "https://news.example.org/"  # no author: the feed stands for it
    assert post.created_at == datetime(2019, 11, 27, 21, 14, 9, tzinfo=UTC)
