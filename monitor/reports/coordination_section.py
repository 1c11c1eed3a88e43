"""The report's coordination section: networks at the default parameters, copy-paste clusters,
bursts and cohorts, each with what it was computed with."""

import bisect
import shlex

from redis.asyncio import Redis

from monitor.reports import model
from monitor.reports.activity import Activity
from monitor.signals import bursts, coordination, copypaste
from monitor.signals.coordination import BEHAVIOURS, Cluster, Network, Query
from monitor.timewindow import MINUTE_MS, Window, iso

COPY_PASTE_MIN_ACCOUNTS = 3


def coactivity(times: dict[str, list[int]], a: str, b: str, window_ms: int) -> int:
    """The Toolkit's co_post weight: posts of a with any post of b within the window."""
    theirs = times.get(b, [])
    count = 0
    for t in times.get(a, []):
        at = bisect.bisect_left(theirs, t - window_ms)
        count += at < len(theirs) and theirs[at] <= t + window_ms
    return count


def _cluster(
    tag: str, found: Network, cluster: Cluster, times: dict[str, list[int]]
) -> model.CoordinationCluster:
    window_ms = found.query.window_s * 1000
    edges = _edges(found, cluster)
    baseline = sum(coactivity(times, a, b, window_ms) for a, b in edges)
    a, b = edges[0]  # the strongest tie: edges are heaviest first
    return model.CoordinationCluster(
        size=len(cluster.members),
        members=[model.Member(id=m, handle=found.handles.get(m)) for m in cluster.members],
        weight=cluster.weight,
        coactivity_weight=baseline,
        evidence_pairs=cluster.pairs,
        posts=cluster.posts,
        evidence=_evidence(tag, found.query.behaviour, a, b),
    )


def _edges(found: Network, cluster: Cluster) -> list[tuple[str, str]]:
    members = set(cluster.members)
    return [(a, b) for a, b, _ in found.edges() if a in members and b in members]


def evidence_command(tag: str, found: Network, cluster: Cluster) -> str:
    """The command that lists the evidence of the cluster's strongest tie (edges are heaviest
    first)."""
    a, b = _edges(found, cluster)[0]
    return _evidence(tag, found.query.behaviour, a, b)


def _evidence(tag: str, behaviour: str, a: str, b: str) -> str:
    return shlex.join(["hashmon", "evidence", f"#{tag}", a, b, "--behaviour", behaviour])


async def _bursts(activity: Activity, first_ms: int, coordinated: set[str]) -> list[model.Burst]:
    posts, persons = await activity.minutes()
    found = []
    for burst in bursts.bursts(posts, persons, first_ms // MINUTE_MS):
        inside = await activity.between(burst.start, burst.end)
        share = sum(r.author_id in coordinated for r in inside) / len(inside) if inside else 0.0
        found.append(model.Burst(
            start=iso(burst.start * MINUTE_MS), peak=iso(burst.peak * MINUTE_MS),
            end=iso(burst.end * MINUTE_MS), posts=burst.posts, peak_posts=burst.peak_posts,
            peak_z=None if burst.peak_z == float("inf") else round(burst.peak_z, 2),
            coordinated_share=round(share, 4),
        ))  # fmt: skip
    return found


async def section(
    redis: Redis, tag: str, window: Window, first_ms: int, activity: Activity, top: int
) -> model.Coordination:
    clustered = []
    for behaviour in BEHAVIOURS:
        found = await coordination.network(redis, tag, Query(behaviour), window)
        clustered.append((found, found.clusters()))
    shown = {m for _, clusters in clustered for c in clusters[:top] for m in c.members}
    times = await activity.times_of(shown)  # for the co-activity baseline of the clusters shown
    networks, coordinated, matched = [], set[str](), set[str]()
    for found, clusters in clustered:
        for cluster in clusters:
            coordinated.update(cluster.members)
        inside = {m for c in clusters for m in c.members}
        matched.update(
            post for p in found.pairs if p.a in inside and p.b in inside for post in (p.p, p.q)
        )
        networks.append(model.BehaviourNetwork(
            behaviour=found.query.behaviour, edges=len(found.edges()), accounts=len(inside),
            clusters=[_cluster(tag, found, c, times) for c in clusters[:top]],
            unpaired_viral_posts=found.unpaired,
        ))  # fmt: skip
    copies = await copypaste.clusters(redis, tag, window, min_accounts=COPY_PASTE_MIN_ACCOUNTS)
    total, persons = activity.total, activity.people
    default = Query("co-post")
    return model.Coordination(
        parameters={
            "window_s": default.window_s,
            "min_weight": default.min_weight,
            "text_rule": default.rule,
            "threshold": float(default.threshold),
            "copy_paste_min_accounts": COPY_PASTE_MIN_ACCOUNTS,
            "burst_baseline_minutes": bursts.BASELINE_MINUTES,
            "burst_z": bursts.Z_THRESHOLD,
            "burst_min_posts": bursts.MIN_POSTS,
            "burst_max_gap_minutes": bursts.MAX_GAP,
        },
        networks=networks,
        coordinated_accounts=len(coordinated),
        people_share=round(len(coordinated) / persons, 4) if persons else 0.0,
        posts_share=round(await activity.posts_of(coordinated) / total, 4) if total else 0.0,
        matched_posts_share=round(len(matched) / total, 4) if total else 0.0,
        copy_paste=[
            model.CopyPasteCluster(
                text=c.text,
                accounts=len(c.accounts),
                account_ids=c.accounts,
                posts=len(c.posts),
                first=iso(c.first_ms),
                last=iso(c.last_ms),
                span_s=c.span_s,
            )
            for c in copies[:top]
        ],
        bursts=await _bursts(activity, first_ms, coordinated),
        cohorts=await _cohorts(activity),
    )


async def _cohorts(activity: Activity) -> model.Cohorts | None:
    found = await activity.cohorts()
    return model.Cohorts(**vars(found)) if found else None
