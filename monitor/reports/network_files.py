"""A coordination network as a file: CSV (Gephi's edge table), JSON, GEXF or GraphML.

Every format holds both directions of an edge as separate rows, with the platform's own account
ids (for X, the numeric user id: joinable with other data) and handles; each account's platform
and handle are given too (JSON: ``nodes``; CSV: columns; GEXF and GraphML: node attributes, the
handle as the node's label, else the id) and display name where the post store has one (JSON
gives ``name`` as null otherwise, GEXF and GraphML leave it out). CSV cells are neutralised against
spreadsheet formulas (post-derived text is hostile).
"""

import csv
import io
import re
from typing import Any

import networkx as nx
import orjson

from monitor.exports import cell
from monitor.reports.build import GENERATED_BY
from monitor.signals.coordination import Network, Node, Query
from monitor.signals.evidence import Evidence
from monitor.timewindow import Window, iso

_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
CSV_COLUMNS = (
    *("source", "target", "behaviour", "weight", "source_handle", "target_handle"),
    *("source_platform", "target_platform"),
)
_UNKNOWN = Node("", None)


def as_csv(found: Network) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for source, target, weight in found.edges():
        a, b = _node(found, source), _node(found, target)
        row = (source, target, found.query.behaviour, weight, a.handle, b.handle, a.platform,
               b.platform)  # fmt: skip
        writer.writerow([cell(value) for value in row])
    return out.getvalue()


def _node(found: Network, account: str) -> Node:
    return found.nodes.get(account, _UNKNOWN)


def summary(tag: str, found: Network, window: Window) -> dict[str, Any]:
    return {
        "tag": tag,
        "window": {"start": iso(window.start_ms), "end": iso(window.end_ms)},
        "parameters": found.query.parameters(),
        "unpaired_viral_posts": found.unpaired,
        "edges": [
            {
                "source": source,
                "target": target,
                "weight": weight,
                "source_handle": _node(found, source).handle,
                "target_handle": _node(found, target).handle,
            }
            for source, target, weight in found.edges()
        ],
        "nodes": [
            {"id": account, "platform": node.platform, "handle": node.handle, "name": node.name}
            for account, node in sorted(found.nodes.items())
        ],
        "clusters": [
            {
                "size": len(c.members),
                "members": c.members,
                "weight": c.weight,
                "evidence_pairs": c.pairs,
                "posts": c.posts,
            }
            for c in found.clusters()
        ],
        "generated_by": GENERATED_BY,
    }


def as_json(tag: str, found: Network, window: Window) -> str:
    return orjson.dumps(summary(tag, found, window), option=orjson.OPT_INDENT_2).decode() + "\n"


def graph(found: Network) -> "nx.DiGraph[str]":
    """Nodes are labelled with their handle (else their id) and carry platform and handle; edges
    their weight and behaviour (Gephi reads both formats and shows the labels)."""
    directed: nx.DiGraph[str] = nx.DiGraph()
    for source, target, weight in found.edges():
        for account in (source, target):
            directed.add_node(account, **_attributes(account, _node(found, account)))
        directed.add_edge(source, target, weight=weight, behaviour=found.query.behaviour)
    return directed


def _attributes(account: str, node: Node) -> dict[str, str]:
    handle = _XML_UNSAFE.sub("", node.handle or "")
    given = {"label": handle or account, "platform": node.platform, "handle": handle}
    if node.name is not None:
        given["name"] = _XML_UNSAFE.sub("", node.name)
    return given


def as_gexf(found: Network) -> str:
    buffer = io.BytesIO()
    nx.write_gexf(graph(found), buffer)
    return buffer.getvalue().decode()


def as_graphml(found: Network) -> str:
    buffer = io.BytesIO()
    nx.write_graphml(graph(found), buffer)
    return buffer.getvalue().decode()


def evidence_row(query: Query, found: Evidence) -> dict[str, object]:
    """One matching pair as JSON: both posts, the gap, and what they share."""
    posts = [{"post": r.key, "account": r.author_id, "handle": r.handle, "time": iso(r.t_ms),
              "url": r.url, "text": text}
             for r, text in zip((found.first, found.second), found.said, strict=True)]  # fmt: skip
    return {
        **query.parameters(),
        "first": posts[0],
        "second": posts[1],
        "dt_s": found.dt_ms / 1000,
        "shared": found.shared,
        "texts": list(found.texts) if found.texts else None,
    }
