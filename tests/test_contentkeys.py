"""Content keys, tokens and canonical links under both text rules."""

import pytest
from coordination_network_toolkit.similarity import message_preprocessor, tokenize

from monitor.signals import contentkeys

TEXTS = [
    "Leave Iraq NOW @user1 #IRGCOutOfIraq",
    "  leave\tiraq\n\nnow  @x.y, #irgcoutofiraq  ",
    "@a@b don't stop — it's 100% 'quoted' https://t.co/AbC?x=1",
    "العراق لیس ساحة للحرس الثوری. وقع وشارک #العراق_ینتفض 🇮🇶",
    "مرگ بر دیکتاتور‌ها ۱۴۰۱ @someone",
    "",
    "@only @mentions",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_toolkit_rule_is_the_toolkits_own(text: str) -> None:
    assert contentkeys.toolkit_key(text) == message_preprocessor(text)
    assert contentkeys.toolkit_tokens(text) == set(tokenize(text).split())


def test_the_extended_rule_unifies_what_the_toolkit_rule_keeps_apart() -> None:
    short = {"https://t.co/AbC": "https://example.org/Article"}
    assert contentkeys.extended_key("READ https://t.co/AbC ＮＯＷ @x", short) == (
        "read https://example.org/article now"
    )
    arabic, persian = "كتاب يومي ١٢٣ حَرَس", "کتاب یومی 123 حرس"
    assert contentkeys.extended_key(arabic, {}) == contentkeys.extended_key(persian, {})
    assert contentkeys.toolkit_key(arabic) != contentkeys.toolkit_key(persian)
    assert contentkeys.extended_key("دیکتاتور\u200cها ـــ", {}) == "دیکتاتورها"
    assert contentkeys.extended_key("STRASSE Straße", {}) == "strasse strasse"


def test_extended_tokens_are_words_only() -> None:
    key = contentkeys.extended_key("Free Iraq, free people! #IRGCOutOfIraq — 2019", {})
    assert contentkeys.extended_tokens(key) == {"free", "iraq", "people", "irgcoutofiraq", "2019"}
    assert {",", "!", "#"} <= contentkeys.toolkit_tokens("Free Iraq, free people! #IRGCOutOfIraq")


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://Example.ORG/Path?utm_source=x&id=7&fbclid=abc#top",
            "https://example.org/Path?id=7",
        ),
        ("https://example.org/a?gclid=1", "https://example.org/a"),
        ("https://example.org/a?b=%2F&c=d", "https://example.org/a?b=%2F&c=d"),  # untouched
        ("not a url at all", "not a url at all"),
    ],
)
def test_canonical_links(url: str, canonical: str) -> None:
    assert contentkeys.canonical_url(url) == canonical
