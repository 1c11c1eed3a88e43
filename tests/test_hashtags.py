import pytest

from monitor import hashtags
from monitor.models import Post
from tests.factories import T0


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("#IRGCOutOfIraq", "irgcoutofiraq"),
        ("#irgcoutofiraq", "irgcoutofiraq"),
        ("＃ＩＲＧＣ", "irgc"),  # full-width forms fold under NFKC
        ("#BlackList_MOIS", "blacklist_mois"),
        ("#ایران\u200cآزاد", "ایران\u200cآزاد"),  # Persian, ZWNJ kept inside
        ("#العراق_ينتفض", "العراق_ينتفض"),  # Arabic
        ("#한국어", "한국어"),  # Korean
        ("#Straße", "strasse"),  # case folding, not just lower-casing
    ],
)
def test_parse_normalises_every_script(written: str, normal: str) -> None:
    assert hashtags.parse(written) == normal


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("#", "empty"),
        ("   ", "empty"),
        ("two words", "white space"),
        ("!!!", "only letters"),
        ("#tag!", "only letters"),
        ("x" * 101, "longer than 100"),
        ("x" * 500, "longer than 100"),
        ("\u200ctag", "only letters"),  # ZWNJ only inside a tag
    ],
)
def test_parse_refuses_what_is_no_tag(raw: str, problem: str) -> None:
    with pytest.raises(hashtags.InvalidTag, match=problem) as caught:
        hashtags.parse(raw)
    assert "\n" not in str(caught.value)
    assert len(str(caught.value)) < 160  # a 500-character tag is not echoed whole


def test_extract_finds_tags_in_running_text() -> None:
    text = (
        "RT @u: #IRGCOutOfIraq و #العراق_ينتفض #ایران‌آزاد #자유 ranked #1 "
        "https://example.org/page#frag AT&T&#39; #IRGCOutOfIraq"
    )
    assert hashtags.extract(text) == ["IRGCOutOfIraq", "العراق_ينتفض", "ایران‌آزاد", "자유"]


def test_post_tags_map_normal_form_to_spelling_used() -> None:
    post = Post(
        platform="x", id="1", author_id="9", created_at=T0,
        hashtags=["IRGCOutOfIraq", "irgcoutofiraq", "BlackListMOIS"],
    )  # fmt: skip
    assert post.tags == {"irgcoutofiraq": "IRGCOutOfIraq", "blacklistmois": "BlackListMOIS"}
