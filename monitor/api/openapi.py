"""The OpenAPI 3.1 document of the API; a test holds it to the routes the server has."""

from typing import Any

from monitor import __version__
from monitor.signals.coordination import BEHAVIOURS

Json = dict[str, Any]  # Any: a JSON document

_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
_ERROR = {"description": "bad input: the field named is wrong", "content": _ERROR_BODY}
_NOT_FOUND = {"description": "nothing to show (an unknown tag or list, or no posts yet)",
              "content": _ERROR_BODY}  # fmt: skip
_WRITE = {
    "401": {"description": "a wrong or missing bearer token", "content": _ERROR_BODY},
    "403": {
        "description": "writes are disabled: no HASHMON_API_TOKEN is set",
        "content": _ERROR_BODY,
    },
}


def _query(name: str, description: str, schema: Json | None = None) -> Json:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


def _path(name: str, description: str) -> Json:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}  # fmt: skip


def _json(description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": {}}}}


_WINDOW = [
    _query("since", "a duration before the newest post (24h, 7d) or an ISO time"),
    _query("until", "a duration before the newest post or an ISO time"),
    _query("format", "json (default), md or html; else the Accept header decides",
           {"type": "string", "enum": ["json", "md", "html"]}),
]  # fmt: skip
_COORDINATION = [
    _query("behaviour", "co-post (default for evidence), co-repost, co-link, co-reply, co-similar",
           {"type": "string", "enum": list(BEHAVIOURS)}),
    _query("window", "seconds between matching posts (default 60)",
           {"type": "integer", "minimum": 0}),
    _query("min_weight", "edges with a lower weight are left out (default 2)",
           {"type": "integer", "minimum": 1}),
    _query("text_rule", "extended (default) or toolkit",
           {"type": "string", "enum": ["extended", "toolkit"]}),
    _query("threshold", "lowest Jaccard similarity for co-similar (default 0.8)",
           {"type": "number", "maximum": 1}),
    _query("since", "a duration before the newest post (24h, 7d) or an ISO time"),
    _query("until", "a duration before the newest post or an ISO time"),
]  # fmt: skip
_HTML = {"description": "a page", "content": {"text/html": {"schema": {"type": "string"}}}}
_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["list", "tag", "token"],
                "properties": {
                    "list": {"type": "string"},
                    "tag": {"type": "string"},
                    "token": {"type": "string"},
                },
            }
        }
    },
}
_FORM_RESPONSES = {
    "303": {"description": "done: back to the dashboard"},
    "400": _HTML,
    "401": _HTML,
    "403": _HTML,
}
_REPORT = {
    "200": {"description": "the report", "content": {
        "application/json": {"schema": {}}, "text/markdown": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}}}},
    "400": _ERROR, "404": _NOT_FOUND,
}  # fmt: skip

DOCUMENT: Json = {
    "openapi": "3.1.0",
    "info": {"title": "hashmon", "version": __version__,
             "description": "Hashtag campaigns: volume, people, coordination, sources, health."},
    "components": {
        "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {
            "error": {"type": "string"}, "field": {"type": "string"}}}},
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
    "paths": {
        "/api/watchlists": {"get": {
            "summary": "every watchlist and its tags",
            "responses": {"200": _json("watchlist name -> normalised tags")}}},
        "/api/watchlists/{name}": {"get": {
            "summary": "one watchlist, with each tag's most used spelling",
            "parameters": [_path("name", "the watchlist")],
            "responses": {"200": _json("the list"), "400": _ERROR,
                          "404": _NOT_FOUND}}},
        "/api/watchlists/{name}/tags": {"post": {
            "summary": "watch tags on a list (created if new)",
            "security": [{"bearer": []}],
            "parameters": [_path("name", "the watchlist")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["tags"], "properties": {
                    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1}}}}}},
            "responses": {"200": _json("how many were added"), "400": _ERROR, **_WRITE}}},
        "/api/watchlists/{name}/tags/{tag}": {"delete": {
            "summary": "stop watching a tag on a list",
            "security": [{"bearer": []}],
            "parameters": [_path("name", "the watchlist"), _path("tag", "the tag")],
            "responses": {"200": _json("how many were removed"), "400": _ERROR, **_WRITE}}},
        "/api/watchlists/{name}/summary": {"get": {
            "summary": "one row per tag of a list (default: the last 24 hours)",
            "parameters": [_path("name", "the watchlist"), *_WINDOW],
            "responses": _REPORT}},
        "/api/tags/{tag}/report": {"get": {
            "summary": "a tag's report (default: everything retained)",
            "parameters": [_path("tag", "the tag, with or without #"), *_WINDOW,
                           _query("top", "rows in top lists, 1-1000",
                                  {"type": "integer", "minimum": 1, "maximum": 1000})],
            "responses": _REPORT}},
        "/api/tags/{tag}/network": {"get": {
            "summary": "a tag's coordination network: directed weighted edges and clusters",
            "parameters": [_path("tag", "the tag, with or without #"), *_COORDINATION,
                           _query("format", "json (default), csv, gexf or graphml",
                                  {"type": "string", "enum": ["json", "csv", "gexf", "graphml"]})],
            "responses": {"200": {"description": "the network", "content": {
                "application/json": {"schema": {}}, "text/csv": {"schema": {"type": "string"}},
                "application/xml": {"schema": {"type": "string"}}}},
                "400": _ERROR, "404": _NOT_FOUND}}},
        "/api/tags/{tag}/evidence": {"get": {
            "summary": "the matching post pairs of two accounts under one behaviour",
            "parameters": [_path("tag", "the tag, with or without #"),
                           _query("a", "an account id"), _query("b", "the other account id"),
                           *_COORDINATION],
            "responses": {"200": _json("the parameters and the pairs, oldest first"),
                          "400": _ERROR, "404": _NOT_FOUND}}},
        "/api/sources": {"get": {
            "summary": "every source with its health and cursors",
            "responses": {"200": _json("the sources")}}},
        "/healthz": {"get": {
            "summary": "200 while an aggregator runs, else 503",
            "responses": {"200": _json("healthy"), "503": _json("no aggregator is running")}}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics",
            "responses": {"200": {"description": "text exposition format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/": {"get": {
            "summary": "the dashboard: every watchlist's tags, with a form to add and remove",
            "responses": {"200": _HTML}}},
        "/tags/{tag}": {"get": {
            "summary": "a tag's report as a page",
            "parameters": [_path("tag", "the tag, with or without #")],
            "responses": {"200": _HTML, "400": _ERROR, "404": _NOT_FOUND}}},
        "/watchlists/add": {"post": {
            "summary": "the dashboard's form: watch a tag (fields list, tag, token)",
            "requestBody": _FORM, "responses": _FORM_RESPONSES}},
        "/watchlists/remove": {"post": {
            "summary": "the dashboard's form: stop watching a tag (fields list, tag, token)",
            "requestBody": _FORM, "responses": _FORM_RESPONSES}},
        "/openapi.json": {"get": {
            "summary": "this document", "responses": {"200": _json("OpenAPI 3.1")}}},
    },
}  # fmt: skip
