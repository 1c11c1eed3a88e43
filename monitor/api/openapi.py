"""The OpenAPI 3.1 document, generated from the models the routes validate and answer with
(monitor.api.params, monitor.api.answers, the report models), with this server's own limits."""

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from monitor import __version__, hashtags, postlist, watchlist
from monitor.api import answers, params
from monitor.reports.model import ListSummary, TagReport
from monitor.settings import Settings
from monitor.sources import SourceState

Json = dict[str, Any]  # Any: a JSON document

_REF = "#/components/schemas/{model}"
_MODELS: list[type[BaseModel]] = [
    TagReport,
    postlist.Page,
    ListSummary,
    SourceState,
    answers.Error,
    answers.OneList,
    answers.Added,
    answers.Removed,
    answers.Health,
    answers.Network,
    answers.Evidence,
    params.Tags,
    params.Form,
]


def _ref(model: type[BaseModel]) -> Json:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(description: str, schema: Json) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> Json:
    return _json(description, _ref(answers.Error))


_BAD = _error("bad input: the field named is wrong")
_MISSING = _error("nothing to show: an unknown tag or list, no posts yet, or none in the window")
_BUSY = _error("not built within the server's time budget (HASHMON_API_BUDGET_S): ask again")
_HOST = {"400": _BAD}
_WRITE = {
    "401": _error("a wrong or missing bearer token"),
    "403": _error("writes are disabled: no HASHMON_API_TOKEN is set"),
}
_HTML = {"description": "a page", "content": {"text/html": {"schema": {"type": "string"}}}}
_TEXT = {"schema": {"type": "string"}}


def _path(name: str, description: str, schema: Json) -> Json:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


# Letters, marks, digits and _ of any script, which a JSON Schema pattern cannot spell.
_TAG = _path(
    "tag", "the tag, with or without #", {"minLength": 1, "maxLength": hashtags.MAX_LENGTH + 1}
)
_LIST = _path("name", "the watchlist", {"pattern": watchlist.NAME_PATTERN})


def query_parameters(model: type[BaseModel], settings: Settings) -> list[Json]:
    """One query parameter per field, its schema as pydantic checks it, null left out (a query
    cannot send one), and this server's coordination limits."""
    schema = model.model_json_schema()
    found = []
    for name, field in schema["properties"].items():
        field = dict(field)
        description = field.pop("description", "")
        field.pop("title", None)
        if "anyOf" in field:  # X | None: the X, with the default
            field = {**next(s for s in field.pop("anyOf") if s.get("type") != "null"), **field}
            field.pop("default", None)
        if name == "window":
            field["maximum"] = settings.coordination_max_window_s
        if name == "threshold":
            field["minimum"] = settings.coordination_min_similarity
            field.pop("exclusiveMinimum", None)
        found.append(
            {
                "name": name,
                "in": "query",
                "required": name in schema.get("required", []),
                "description": description,
                "schema": field,
            }
        )
    return found


def document(settings: Settings) -> Json:
    _, defs = models_json_schema(
        [
            (m, "serialization" if m not in (params.Tags, params.Form) else "validation")
            for m in _MODELS
        ],
        ref_template=_REF,
    )
    report = {
        "200": {
            "description": "the report",
            "content": {
                "application/json": {"schema": _ref(TagReport)},
                "text/markdown": _TEXT,
                "text/html": _TEXT,
            },
        },
        "400": _BAD,
        "404": _MISSING,
        "503": _BUSY,
    }
    summary = {
        **report,
        "200": {
            **report["200"],
            "content": {
                **report["200"]["content"],
                "application/json": {"schema": _ref(ListSummary)},
            },
        },
    }
    form = {
        "required": True,
        "content": {"application/x-www-form-urlencoded": {"schema": _ref(params.Form)}},
    }
    form_answers = {
        "303": {"description": "done: back to the dashboard"},
        "400": _HTML,
        "401": _HTML,
        "403": _HTML,
    }
    network = {
        "200": {
            "description": "the network",
            "content": {
                "application/json": {"schema": _ref(answers.Network)},
                "text/csv": _TEXT,
                "application/xml": _TEXT,
            },
        },
        "400": _BAD,
        "404": _MISSING,
        "503": _BUSY,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hashmon",
            "version": __version__,
            "description": "Hashtag campaigns: volume, people, coordination, sources, "
            "health. Every response may also be a 400 naming the Host when the Host "
            "header is not one this server answers to.",
        },
        "components": {
            "schemas": defs["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/api/watchlists": {
                "get": {
                    "summary": "every watchlist and its tags",
                    "responses": {
                        "200": _json(
                            "watchlist name -> normalised tags",
                            {
                                "type": "object",
                                "additionalProperties": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                },
                            },
                        ),
                        **_HOST,
                    },
                }
            },
            "/api/watchlists/{name}": {
                "get": {
                    "summary": "one watchlist, with each tag's most used spelling",
                    "parameters": [_LIST],
                    "responses": {
                        "200": _json("the list", _ref(answers.OneList)),
                        "400": _BAD,
                        "404": _MISSING,
                    },
                }
            },
            "/api/watchlists/{name}/tags": {
                "post": {
                    "summary": "watch tags on a list (created if new)",
                    "security": [{"bearer": []}],
                    "parameters": [_LIST],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(params.Tags)}},
                    },
                    "responses": {
                        "200": _json("how many were added", _ref(answers.Added)),
                        "400": _BAD,
                        "413": _error("the body is too large"),
                        **_WRITE,
                    },
                }
            },
            "/api/watchlists/{name}/tags/{tag}": {
                "delete": {
                    "summary": "stop watching a tag on a list",
                    "security": [{"bearer": []}],
                    "parameters": [_LIST, _TAG],
                    "responses": {
                        "200": _json("how many were removed", _ref(answers.Removed)),
                        "400": _BAD,
                        **_WRITE,
                    },
                }
            },
            "/api/watchlists/{name}/summary": {
                "get": {
                    "summary": "one row per tag of a list (default: the last 24 hours)",
                    "parameters": [_LIST, *query_parameters(params.Summary, settings)],
                    "responses": summary,
                }
            },
            "/api/tags/{tag}/report": {
                "get": {
                    "summary": "a tag's report (default: everything retained)",
                    "parameters": [_TAG, *query_parameters(params.Report, settings)],
                    "responses": report,
                }
            },
            "/api/tags/{tag}/network": {
                "get": {
                    "summary": "a tag's coordination network: directed weighted edges and clusters",
                    "parameters": [_TAG, *query_parameters(params.Network, settings)],
                    "responses": network,
                }
            },
            "/api/tags/{tag}/evidence": {
                "get": {
                    "summary": "the matching post pairs of two accounts under one behaviour",
                    "parameters": [_TAG, *query_parameters(params.Evidence, settings)],
                    "responses": {
                        "200": _json(
                            "the parameters and the pairs, oldest first", _ref(answers.Evidence)
                        ),
                        "400": _error(
                            "bad input: the field named is wrong; for a or b, a handle that "
                            "more than one account carried (the error lists them), or a and b "
                            "naming one account"
                        ),
                        "404": _error(
                            "nothing to show: an unknown tag, no posts yet, or none in the "
                            "window; or, with field a or b, no post of the tag by that account"
                        ),
                        "503": _BUSY,
                    },
                }
            },
            "/api/tags/{tag}/posts": {
                "get": {
                    "summary": "the posts a report counts, newest first, with what they said",
                    "parameters": [_TAG, *query_parameters(params.Posts, settings)],
                    "responses": {
                        "200": _json(
                            "a page of posts; next_cursor asks for the next", _ref(postlist.Page)
                        ),
                        "400": _error(
                            "bad input: the field named is wrong; for account, a "
                            "handle more than one account carried"
                        ),
                        "404": _error(
                            "nothing to show: an unknown tag, no posts yet, or none "
                            "in the window; or, with field account, no post by it"
                        ),
                        "503": _BUSY,
                    },
                }
            },
            "/api/sources": {
                "get": {
                    "summary": "every source with its health and cursors (URLs without secrets)",
                    "responses": {
                        "200": _json("the sources", {"type": "array", "items": _ref(SourceState)}),
                        **_HOST,
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "200 while an aggregator runs, else 503",
                    "responses": {
                        "200": _json("healthy", _ref(answers.Health)),
                        "503": _json("no aggregator is running", _ref(answers.Health)),
                        **_HOST,
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {
                        "200": {
                            "description": "text exposition format",
                            "content": {"text/plain": _TEXT},
                        },
                        **_HOST,
                    },
                }
            },
            "/": {
                "get": {
                    "summary": "the dashboard: every watchlist's tags, a form to add and remove",
                    "responses": {"200": _HTML, **_HOST},
                }
            },
            "/tags/{tag}": {
                "get": {
                    "summary": "a tag's report as a page",
                    "parameters": [_TAG],
                    "responses": {"200": _HTML, "400": _BAD, "404": _MISSING, "503": _BUSY},
                }
            },
            "/watchlists/add": {
                "post": {
                    "summary": "the dashboard's form: watch a tag (fields list, tag, token)",
                    "requestBody": form,
                    "responses": form_answers,
                }
            },
            "/watchlists/remove": {
                "post": {
                    "summary": "the dashboard's form: stop watching a tag (list, tag, token)",
                    "requestBody": form,
                    "responses": form_answers,
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "this document",
                    "responses": {"200": _json("OpenAPI 3.1", {"type": "object"}), **_HOST},
                }
            },
        },
    }
