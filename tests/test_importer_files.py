"""Archive files: real twarc2 output counted independently, and files that must be refused."""

import json
import random
import unicodedata
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.importers import canonical, twarc2
from monitor.importers.files import Format, ImportFileError, Line, open_archive
from monitor.models import Post

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = sorted(
    [*SHARED.glob("data/twarc2/*.jsonl"), *SHARED.glob("platforms/fixtures/twarc2/*.jsonl")]
)
REAL_FILES = [pytest.param(path, id=path.name) for path in REAL] or [
    pytest.param(None, marks=pytest.mark.skip(reason=f"no twarc2 files under {SHARED}"))
]
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent")

Json = dict[str, Any]  # Any: decoded JSON


def read(path: Path, fmt: Format = "auto") -> list[Line]:
    return [line for line, _ in open_archive(path, fmt).lines()]


def expected_counts(path: Path) -> tuple[set[str], set[str], dict[str, int]]:
    """Tweet ids, author ids and posts per tag, counted with plain json and X's own entities."""
    ids: set[str] = set()
    authors: set[str] = set()
    per_tag: defaultdict[str, set[str]] = defaultdict(set)
    for raw in path.read_bytes().splitlines():
        try:
            obj = json.loads(raw)
        except ValueError:
            continue  # a truncated line holds no countable tweet
        if "data" in obj:
            data = obj["data"] if isinstance(obj["data"], list) else [obj["data"]]
            included = {t["id"]: t for t in obj.get("includes", {}).get("tweets", [])}
            pairs = [(t, included.get(retweeted_id(t))) for t in data]
        elif "errors" in obj:
            continue
        else:
            refs = [r for r in obj.get("referenced_tweets", []) if r["type"] == "retweeted"]
            pairs = [(obj, refs[0] if refs and "text" in refs[0] else None)]
        for tweet, original in pairs:
            ids.add(tweet["id"])
            authors.add(tweet["author_id"])
            for entity in (original or tweet).get("entities", {}).get("hashtags", []):
                per_tag[unicodedata.normalize("NFKC", entity["tag"]).casefold()].add(tweet["id"])
    return ids, authors, {tag: len(posts) for tag, posts in per_tag.items()}


def retweeted_id(tweet: Json) -> str | None:
    refs = [r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "retweeted"]
    return refs[0] if refs else None


@pytest.mark.parametrize("path", REAL_FILES)
def test_real_file_counts_match_an_independent_count(path: Path) -> None:
    archive = open_archive(path, "auto")
    assert archive.format == "twarc2"
    posts = {post.id: post for line, _ in archive.lines() for post in line.posts}
    per_tag: defaultdict[str, int] = defaultdict(int)
    for post in posts.values():
        for tag in post.tags:
            per_tag[tag] += 1
    ids, authors, tags = expected_counts(path)
    assert set(posts) == ids
    assert {post.author_id for post in posts.values()} == authors
    assert dict(per_tag) == tags


@pytest.mark.parametrize("path", REAL_FILES)
def test_real_file_offsets_reach_the_size(path: Path) -> None:
    archive = open_archive(path, "twarc2")
    offsets = [offset for _, offset in archive.lines()]
    assert offsets == sorted(offsets)
    assert offsets[-1] == archive.size == path.stat().st_size


@needs_shared
@pytest.mark.parametrize(
    ("name", "bad_line", "good_posts"),
    [
        ("platforms/fixtures/twarc2/searches_truncated.jsonl", 2, 4),
        ("data/twarc2/streaming_output_with_error.jsonl", 8, 7),
    ],
)
def test_real_truncated_last_line_is_rejected_alone(
    name: str, bad_line: int, good_posts: int
) -> None:
    lines = read(SHARED / name)
    rejected = [line for line in lines if line.error]
    assert rejected == [Line(bad_line, [], f"line {bad_line}: invalid JSON (truncated?)")]
    assert lines[-1].number == bad_line
    assert sum(len(line.posts) for line in lines) == good_posts


@needs_shared
@pytest.mark.parametrize(
    ("flat", "raw"),
    [
        ("data/twarc2/flat.jsonl", "data/twarc2/noflat.jsonl"),
        (
            "platforms/fixtures/twarc2/searches_IRGCOutOfIraq_BlackListMOIS.flattened.jsonl",
            "platforms/fixtures/twarc2/searches_IRGCOutOfIraq_BlackListMOIS.jsonl",
        ),
    ],
)
def test_flattened_and_raw_forms_give_the_same_posts(flat: str, raw: str) -> None:
    def posts(name: str) -> dict[str, Post]:
        return {post.id: post for line in read(SHARED / name) for post in line.posts}

    assert posts(flat) == posts(raw)


# Files that are refused, or whose lines are


def refused(path: Path, fmt: Format = "auto") -> str:
    with pytest.raises(ImportFileError) as caught:
        open_archive(path, fmt)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path)) or path.name in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    assert refused(tmp_path / "nope.jsonl").endswith("no such file")


def test_directory(tmp_path: Path) -> None:
    assert refused(tmp_path).endswith("is a directory")


@pytest.mark.parametrize("content", [b"", b"\n", b"  \n\t\r\n\n   "])
def test_empty_or_blank_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    assert refused(path, "twarc2").endswith("empty file")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    noise = random.Random(7).randbytes(4096)
    path.write_bytes(noise[:100] + b"\0" + noise)
    assert "binary file" in refused(path, "jsonl")


def test_invalid_utf8_and_gzip(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.jsonl"
    latin.write_bytes('{"text": "caf\u00e9"}\n'.encode("latin-1"))
    assert "not UTF-8" in refused(latin)
    gzipped = tmp_path / "out.jsonl.gz"
    gzipped.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(1, 200)))
    assert "gzip" in refused(gzipped)


def test_file_of_user_objects(tmp_path: Path) -> None:
    path = tmp_path / "users.jsonl"
    path.write_text('{"id": "1", "username": "x", "name": "y"}\n' * 3, encoding="utf-8")
    assert "cannot tell the format" in refused(path)
    assert "--format twarc2 or --format jsonl" in refused(path)
    lines = read(path, "twarc2")
    assert [line.error for line in lines] == [
        f"line {n}: not a twarc2 page or tweet" for n in (1, 2, 3)
    ]
    for line in read(path, "jsonl"):
        assert line.error == f"line {line.number}: platform: Field required"
        assert line.posts == []


def test_pretty_printed_json_array(tmp_path: Path) -> None:
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps([{"id": "1", "text": "x"}], indent=2), encoding="utf-8")
    for fmt in ("auto", "twarc2", "jsonl"):
        assert "over several lines" in refused(path, fmt)


def test_unknown_format_is_a_caller_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        open_archive(tmp_path, "csv")  # type: ignore[arg-type]  # a value typer would refuse


def test_first_line_not_json(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("\n\nhello world\n", encoding="utf-8")
    assert "line 3 is not JSON" in refused(path)


@pytest.mark.parametrize("obj", [{"id": "1"}, [1, 2], 3, "text", None, {"data": "x"}])
def test_twarc2_rejects_what_it_does_not_know(obj: object) -> None:
    assert not twarc2.looks_like(obj)
    with pytest.raises(ValueError, match=r"^not a twarc2 page or tweet$"):
        twarc2.parse_line(obj)


def test_twarc2_error_only_line_gives_nothing() -> None:
    line = {"errors": [{"title": "operational-disconnect"}]}
    assert twarc2.looks_like(line)
    assert twarc2.parse_line(line) == []


# Canonical JSONL


def sample(post_id: str = "1", **fields: Any) -> Post:  # Any: Post field values
    return Post(
        platform="mastodon",
        id=post_id,
        author_id="a",
        hashtags=["IRGCOutOfIraq"],
        created_at=datetime(2019, 11, 27, 21, 31, tzinfo=UTC),
        **fields,
    )


def test_canonical_round_trip() -> None:
    post = sample(
        text="\u0633\u067e\u0627\u0647\u200c\u0647\u0627 #IRGCOutOfIraq",
        kind="repost",
        referenced_id="0",
        links=["https://example.org"],
        author_followers=3,
    )
    line = post.model_dump_json().encode()
    assert canonical.looks_like(json.loads(line))
    assert canonical.parse_line(line) == post


def test_canonical_file_with_one_bad_field(tmp_path: Path) -> None:
    bad = sample("2").model_dump() | {"created_at": "yesterday"}
    rows = [
        sample("1").model_dump_json(),
        json.dumps(bad, default=str),
        sample("3").model_dump_json(),
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    archive = open_archive(path, "auto")
    assert archive.format == "jsonl"
    lines = list(archive.lines())
    assert [line.number for line, _ in lines] == [1, 2, 3]
    first, second, third = (line for line, _ in lines)
    assert [post.id for post in first.posts + third.posts] == ["1", "3"]
    assert second.posts == []
    assert second.error is not None
    assert second.error.startswith("line 2: created_at: Input should be a valid datetime")


@pytest.mark.parametrize("when", ["1969-12-31T23:59:59Z", "2300-01-01T00:00:00Z"])
def test_a_time_indexes_cannot_order_is_rejected(tmp_path: Path, when: str) -> None:
    rows = [sample("1").model_dump(mode="json"), sample("2").model_dump(mode="json")]
    rows[1]["created_at"] = when
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    (first, _), (second, _) = open_archive(path, "jsonl").lines()
    assert [post.id for post in first.posts] == ["1"] and second.posts == []
    assert second.error == "line 2: created_at: Value error, must be from 1970-01-01 to 2286-11-20"


def test_canonical_reasons_are_short() -> None:
    with pytest.raises(ValueError, match=r"^invalid JSON \(truncated\?\)$"):
        canonical.parse_line(sample().model_dump_json().encode()[:40])
    with pytest.raises(ValueError, match=r"^platform: String should match pattern"):
        canonical.parse_line(sample().model_dump_json().replace("mastodon", "X\\n!").encode())
    with pytest.raises(ValueError, match=r"^Input should be an object$"):
        canonical.parse_line(b"[1]")


@pytest.mark.parametrize("field", ["id", "author_id", "referenced_id", "referenced_author_id"])
def test_an_id_holding_a_nul_is_rejected(field: str) -> None:
    line = json.dumps(sample().model_dump(mode="json") | {field: "1\u00002"}).encode()
    with pytest.raises(ValueError, match=rf"^{field}: Value error, must not contain a NUL char"):
        canonical.parse_line(line)


def test_bom_crlf_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    rows = [sample("1").model_dump_json(), "", sample("2").model_dump_json(), "{bad", '{"id": "3"']
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode())
    lines = read(path)
    assert [(line.number, [p.id for p in line.posts]) for line in lines[:2]] == [
        (1, ["1"]),
        (3, ["2"]),
    ]
    assert [line.error for line in lines[2:]] == [
        "line 4: invalid JSON: key must be a string at column 2",
        "line 5: invalid JSON (truncated?)",
    ]
