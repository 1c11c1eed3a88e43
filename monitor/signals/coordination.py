"""Coordination networks of a tag, with query-time parameters, from the pairs kept live.

For a watched tag, over the posts carrying it, two posts p, q by distinct accounts a != b match
when |t(p) - t(q)| <= W (inclusive, to the millisecond) and they

- co-post: have the same content key (see ``contentkeys``); reposts take no part;
- co-repost: repost the same post; only reposts take part;
- co-link: share a link (canonical under the extended rule, as given under the toolkit rule);
  reposts take no part;
- co-reply: reply to the same post; reposts take no part;
- co-similar: have token sets of at least ``coordination_min_tokens`` tokens each whose Jaccard
  similarity is >= the threshold (compared exactly, as fractions); reposts take no part.

The weight w(a -> b) is the number of distinct posts of a that have at least one matching post of
b, as in the Coordination Network Toolkit (Graham, QUT Digital Observatory). Edges are directed
and kept when w >= K; clusters are the connected components of the undirected graph of those
edges, so an edge counts when either direction reaches K. Both posts of a pair must lie in the
query's time window.

Viral keys: time is cut into buckets as long as the largest window. Where more than
``coordination_max_matches`` posts share one key in one bucket, none of them is paired on that
key; they are counted instead, and networks that miss such posts say how many. A text that
thousands of accounts post within minutes would otherwise hold pairs by the million; it shows up
whole among the copy-paste clusters. The counts cover every post applied to the bucket, so the
result does not depend on arrival order.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal, cast

import networkx as nx
import orjson
from redis.asyncio import Redis

from monitor import hashed, keys, poststore
from monitor.signals import matching, records
from monitor.signals.contentkeys import Rule
from monitor.signals.matching import index_name
from monitor.timewindow import Window

Behaviour = Literal["co-post", "co-repost", "co-link", "co-reply", "co-similar"]
BEHAVIOURS: tuple[Behaviour, ...] = ("co-post", "co-repost", "co-link", "co-reply", "co-similar")


class InvalidQuery(ValueError):
    """A query parameter out of range; the message names it."""


@dataclass(frozen=True)
class Query:
    """What a network is computed with; defaults are the issue's and the Toolkit's usual ones."""

    behaviour: Behaviour
    window_s: int = 60
    min_weight: int = 2
    rule: Rule = "extended"
    threshold: Fraction = Fraction(4, 5)

    def check(self, max_window_s: int, min_similarity: float) -> None:
        if not 0 <= self.window_s <= max_window_s:
            raise InvalidQuery(
                f"--window {self.window_s}: must be 0 to {max_window_s} seconds "
                "(HASHMON_COORDINATION_MAX_WINDOW_S sets the largest)"
            )
        if self.min_weight < 1:
            raise InvalidQuery(f"--min-weight {self.min_weight}: must be at least 1")
        if not Fraction(str(min_similarity)) <= self.threshold <= 1:
            raise InvalidQuery(
                f"--threshold {float(self.threshold):g}: must be {min_similarity:g} to 1 "
                "(HASHMON_COORDINATION_MIN_SIMILARITY sets the lowest)"
            )

    @property
    def index(self) -> str:
        return index_name(self.behaviour, self.rule)

    def parameters(self) -> dict[str, object]:
        shown: dict[str, object] = {
            "behaviour": self.behaviour,
            "window_s": self.window_s,
            "min_weight": self.min_weight,
        }
        if self.behaviour in ("co-post", "co-link", "co-similar"):
            shown["text_rule"] = self.rule
        if self.behaviour == "co-similar":
            shown["threshold"] = float(self.threshold)
        return shown


@dataclass(frozen=True, slots=True)
class Pair:
    """Two matching posts: p by a, q by b, dt_ms apart; shared/union tokens for co-similar."""

    a: str
    p: str
    b: str
    q: str
    dt_ms: int
    first_ms: int
    shared: int = 0
    union: int = 0


async def _rows(redis: Redis, tag: str, query: Query, window: Window) -> list[list[Any]]:
    """The query's pairs-set rows in the window. Co-post and co-link pairs that both rules give
    are kept once, marked by an eighth element, in the extended set: the toolkit rule reads those
    too."""
    names = [query.index]
    if query.rule == "toolkit" and query.behaviour in ("co-post", "co-link"):
        names.append(index_name(query.behaviour, "extended"))
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.zrangebyscore(keys.copairs(tag, name), window.start_ms, window.end_ms)
        read = cast(list[list[bytes]], await pipe.execute())
    rows = [orjson.loads(member) for member in read[0]]  # the earlier post's time is in them
    if query.behaviour == "co-similar":
        return rows
    shared = (orjson.loads(member) for members in read[1:] for member in members)
    return [row[:7] for row in rows] + [row[:7] for row in shared if len(row) == 8]


async def matching_pairs(redis: Redis, tag: str, query: Query, window: Window) -> list[Pair]:
    """The pairs of the query's behaviour whose two posts both lie in ``window``."""
    limit_ms = query.window_s * 1000
    num, den = query.threshold.numerator, query.threshold.denominator
    found = []
    seen = set()
    for row in await _rows(redis, tag, query, window):
        a, p, b, q, dt, _key, first, *overlap = row
        if dt > limit_ms or first + dt > window.end_ms or (p, q) in seen:
            continue  # a pair found through two keys (two links, two tokens) counts once
        if overlap and overlap[0] * den < num * overlap[1]:  # shared / union < threshold, exactly
            continue
        seen.add((p, q))
        found.append(Pair(a, p, b, q, dt, first, *overlap))
    return found


@dataclass
class Cluster:
    members: list[str]
    weight: int  # sum of the weights of its edges (those >= K)
    pairs: int  # matching post pairs between its members: the evidence
    posts: int  # distinct posts in those pairs


def largest_first(cluster: Cluster) -> tuple[int, int, str]:
    """How clusters are listed: largest first, then heaviest, then by the first member's id."""
    return -len(cluster.members), -cluster.weight, cluster.members[0]


@dataclass
class Summary:
    """What a report shows of one behaviour's network: its clusters, and the edges of the first
    few (those it lists)."""

    query: Query
    edges: int  # how many have weight >= K
    clusters: list[Cluster]  # largest first
    ties: list[list[tuple[str, str]]]  # each listed cluster's edges: heaviest first, then by ids
    unpaired: int


@dataclass(frozen=True)
class Node:
    """What exports say of an account besides its id; ``name``: the display name one of its
    posts carried, where the post store has it."""

    platform: str
    handle: str | None
    name: str | None = None


@dataclass
class Network:
    """Directed weights of one behaviour; edges and clusters at the query's minimum weight."""

    query: Query
    weights: dict[tuple[str, str], int]
    pairs: list[Pair]
    nodes: dict[str, Node] = field(default_factory=dict)  # the accounts of the kept edges
    unpaired: int = 0  # posts whose key matched more than coordination_max_matches others
    _edges: list[tuple[str, str, int]] | None = field(default=None, repr=False, compare=False)

    def edges(self) -> list[tuple[str, str, int]]:
        """(source, target, weight) with weight >= K, heaviest first, then by ids."""
        if self._edges is None:
            kept = [(a, b, w) for (a, b), w in self.weights.items() if w >= self.query.min_weight]
            self._edges = sorted(kept, key=lambda edge: (-edge[2], edge[0], edge[1]))
        return self._edges

    def clusters(self) -> list[Cluster]:
        """Connected components of the kept edges, largest first."""
        graph: nx.Graph[str] = nx.Graph()
        graph.add_edges_from((a, b) for a, b, _ in self.edges())
        components = [sorted(members) for members in nx.connected_components(graph)]
        where = {account: n for n, members in enumerate(components) for account in members}
        weight, pairs = [0] * len(components), [0] * len(components)
        posts: list[set[str]] = [set() for _ in components]
        for source, _, w in self.edges():
            weight[where[source]] += w
        for pair in self.pairs:
            if pair.a in where and where[pair.a] == where.get(pair.b):
                pairs[where[pair.a]] += 1
                posts[where[pair.a]].update((pair.p, pair.q))
        found = [Cluster(members, weight[n], pairs[n], len(posts[n]))
                 for n, members in enumerate(components)]  # fmt: skip
        return sorted(found, key=largest_first)

    def summary(self, listed: int) -> Summary:
        """With the edges of the first ``listed`` clusters (every edge lies in one cluster)."""
        clusters = self.clusters()
        where = {member: n for n, c in enumerate(clusters[:listed]) for member in c.members}
        ties: list[list[tuple[str, str]]] = [[] for _ in clusters[:listed]]
        for a, b, _ in self.edges():
            if a in where:
                ties[where[a]].append((a, b))
        return Summary(self.query, len(self.edges()), clusters, ties, self.unpaired)


def weights(pairs: list[Pair]) -> dict[tuple[str, str], int]:
    """w(a -> b): distinct posts of a with at least one matching post of b."""
    matched: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for pair in pairs:
        matched[pair.a, pair.b].add(pair.p)
        matched[pair.b, pair.a].add(pair.q)
    return {edge: len(posts) for edge, posts in matched.items()}


async def network(redis: Redis, tag: str, query: Query, window: Window) -> Network:
    found = await _from_pairs(redis, tag, query, window)
    found.nodes = await _nodes(redis, tag, found)
    found.unpaired = (await unpaired(redis, tag, window))[matching.namespace(query.index)]
    return found


async def _from_pairs(redis: Redis, tag: str, query: Query, window: Window) -> Network:
    pairs = await matching_pairs(redis, tag, query, window)
    return Network(query, weights(pairs), pairs)


async def summaries(
    redis: Redis, tag: str, window: Window, listed: int, viral: Counter[str] | None = None
) -> tuple[list[Summary], int]:
    """Each behaviour's network at its default query, with the edges of its first ``listed``
    clusters, and how many posts are matched between accounts of its clusters (in any
    behaviour), from the pairs in the window; ``viral``: the window's ``unpaired`` posts, when
    they have been read."""
    matched: set[str] = set()
    found = []
    viral = viral if viral is not None else await unpaired(redis, tag, window)
    for behaviour in BEHAVIOURS:
        query = Query(behaviour)
        network_ = await _from_pairs(redis, tag, query, window)
        network_.unpaired = viral[matching.namespace(query.index)]
        summary = network_.summary(listed)
        inside = {m for c in summary.clusters for m in c.members}
        matched.update(post for p in network_.pairs if p.a in inside and p.b in inside
                       for post in (p.p, p.q))  # fmt: skip
        found.append(summary)
    return found, len(matched)


async def unpaired(redis: Redis, tag: str, window: Window) -> Counter[str]:
    """Posts in the window left unpaired because their key was viral, by index namespace."""
    members = cast(
        list[bytes],
        await redis.zrangebyscore(keys.cosaturated(tag), window.start_ms, window.end_ms),
    )
    return Counter(member.partition(b"\0")[0].decode() for member in members)


async def _nodes(redis: Redis, tag: str, found: Network) -> dict[str, Node]:
    """Each account's platform (its posts' keys are '<platform>:<id>'), handle and display name,
    from the record and the body of one of its posts in the network."""
    one_post: dict[str, str] = {}
    for pair in found.pairs:
        one_post.setdefault(pair.a, pair.p)
        one_post.setdefault(pair.b, pair.q)
    accounts = sorted({a for edge in found.edges() for a in edge[:2]})
    if not accounts:
        return {}
    posts = [one_post[a] for a in accounts]
    raws = await hashed.hmget(redis, keys.records(tag), posts)
    bodies = await poststore.read(redis, posts)
    return {
        account: Node(
            post.partition(":")[0],
            records.loads(post, raw).handle if raw else None,
            body.name if (body := bodies.get(post)) else None,
        )
        for account, post, raw in zip(accounts, posts, raws, strict=True)
    }
