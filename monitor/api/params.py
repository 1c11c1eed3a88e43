"""Every route's query and body as a pydantic model: the routes validate with these models and
the OpenAPI document is generated from them, so what the document promises is what is checked.

Each value is bounded before anything is read or allocated. A model refuses unknown values of
known parameters, not unknown parameters (a client may add its own, such as a cache breaker).
"""

from typing import Literal, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor import hashtags, timewindow
from monitor.signals.contentkeys import Rule
from monitor.signals.coordination import Behaviour

M = TypeVar("M", bound=BaseModel)

# A duration (24h, 90m, 1.5d, 2w) or an ISO 8601 date or time; its range is checked on use.
WINDOW = (
    r"^\s*([0-9]+(\.[0-9]+)?\s*([sSmMhHdDwW]|[mM][iI][nN])"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9:.]+([zZ]|[+-][0-9:]+)?)?)\s*$"
)
Format = Literal["json", "md", "html"]
NetworkFormat = Literal["json", "csv", "gexf", "graphml"]
ACCOUNT = (
    "an account id or handle: an id as in the network's edges (or <platform>:<id>), else a "
    "handle one of the tag's posts carried, @name, name@instance or name.bsky.social, in any "
    "case, the @ optional"
)


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Window(_Params):
    since: str | None = Field(
        None, max_length=timewindow.MAX_LENGTH, pattern=WINDOW,
        description="a duration before the newest post (24h, 7d) or an ISO time; "
        "clipped to the posts retained",
    )  # fmt: skip
    until: str | None = Field(
        None, max_length=timewindow.MAX_LENGTH, pattern=WINDOW,
        description="a duration before the newest post or an ISO time",
    )  # fmt: skip


class Report(Window):
    format: Format | None = Field(None, description="json, md or html; else the Accept header")
    top: int = Field(10, ge=1, le=1000, description="rows in top lists")


class Summary(Window):
    format: Format | None = Field(None, description="json, md or html; else the Accept header")


class Coordination(Window):
    window: int = Field(60, ge=0, le=86_400, description="seconds between matching posts")
    min_weight: int = Field(2, ge=1, le=1_000_000, description="lighter edges are left out")
    text_rule: Rule = Field("extended", description="how texts become co-post's keys")
    threshold: float = Field(0.8, gt=0, le=1, description="lowest Jaccard similarity, co-similar")


class Network(Coordination):
    behaviour: Behaviour = Field(description="what the linked accounts did alike")
    format: NetworkFormat = Field("json", description="json, csv, gexf or graphml")


class Evidence(Coordination):
    behaviour: Behaviour = Field("co-post", description="what the linked accounts did alike")
    a: str = Field(min_length=1, max_length=200, description=ACCOUNT)
    b: str = Field(min_length=1, max_length=200, description=f"the other account: {ACCOUNT}")


class Posts(Window):
    text: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        pattern=r"\S",
        description="words the post says (any case or letter form)",
    )
    account: str | None = Field(
        None, min_length=1, max_length=200, description="an account id or handle"
    )
    kind: Literal["original", "repost", "quote", "reply"] | None = Field(None, description="kind")
    platform: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="platform")
    limit: int = Field(50, ge=1, le=500, description="posts per page")
    cursor: str | None = Field(
        None,
        max_length=300,
        pattern=r"^[0-9]+:.+$",
        description="the next page: a page's next_cursor",
    )


class Tags(_Params):
    """The body of a write that adds tags."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tags: list[str] = Field(min_length=1, max_length=100, description="tags, with or without #")


class Form(_Params):
    """The dashboard's form to add or remove a tag."""

    list: str = Field(min_length=1, max_length=64)
    tag: str = Field(min_length=1, max_length=hashtags.MAX_LENGTH + 1)
    token: str = Field(max_length=1024)


def bounds(asked: Window) -> tuple[str | None, str | None]:
    """Both bounds, each refused here when out of range (a century at most), before anything
    is read; a window is clipped to the tag's posts only once they are known."""
    for name, value in (("since", asked.since), ("until", asked.until)):
        try:
            timewindow.check(value)
        except timewindow.InvalidWindow as exc:
            raise refused(name, str(exc)) from None
    return asked.since, asked.until


def query(model: type[M], request: web.Request) -> M:
    """The request's query as ``model``; a bad value is a 400 naming its parameter."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise bad(exc) from None


def body(model: type[M], raw: bytes) -> M:
    """A JSON body as ``model`` (pydantic's parser bounds nesting); a bad one is a 400."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise bad(exc, whole="body") from None


def bad(exc: ValidationError, whole: str = "query") -> web.HTTPBadRequest:
    """The first problem, in one line naming its parameter."""
    first = exc.errors(include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else whole
    if first["type"] in ("json_invalid", "model_type"):
        return refused(whole, f"the {whole} is not a JSON object")
    return refused(field, f"{field}: {first['msg'][0].lower()}{first['msg'][1:]}")


def refused(field: str, message: str) -> web.HTTPBadRequest:
    body = orjson.dumps({"error": message, "field": field}).decode()
    return web.HTTPBadRequest(text=body, content_type="application/json")


def unknown(field: str, message: str) -> web.HTTPNotFound:
    """A well-formed value that names nothing the server holds, such as an unknown account."""
    body = orjson.dumps({"error": message, "field": field}).decode()
    return web.HTTPNotFound(text=body, content_type="application/json")
