"""The report's coordination section: networks at the default parameters, copy-paste clusters,
bursts and cohorts, each with what it was computed with."""

import asyncio
import bisect
import itertools
import shlex

import numpy as np
from redis.asyncio import Redis

from monitor.reports import model, said
from monitor.reports.activity import Activity
from monitor.signals import bursts, copypaste, pairlog
from monitor.signals.coordination import Cluster, Network, Query, Summary
from monitor.timewindow import MINUTE_MS, Window, iso

COPY_PASTE_MIN_ACCOUNTS = 3
_TABLE_CELLS = 4_000_000  # posts x members in the co-activity table of one cluster, at most


def coactivity(times: dict[str, list[int]], a: str, b: str, window_ms: int) -> int:
    """The Toolkit's co_post weight: posts of a with any post of b within the window."""
    theirs = times.get(b, [])
    count = 0
    for t in times.get(a, []):
        at = bisect.bisect_left(theirs, t - window_ms)
        count += at < len(theirs) and theirs[at] <= t + window_ms
    return count


def coactivity_of(
    times: dict[str, list[int]], members: list[str], edges: list[tuple[str, str]], window_ms: int
) -> int:
    """The sum of ``coactivity`` over the edges, for all pairs of members at once: for each
    post, which members posted within the window of it (counts of their posts before each
    position in time order). One edge at a time where that table would be too large."""
    sizes = [len(times.get(m, [])) for m in members]
    if sum(sizes) * len(members) > _TABLE_CELLS:
        return sum(coactivity(times, a, b, window_ms) for a, b in edges)
    stamps = np.fromiter(itertools.chain.from_iterable(times.get(m, []) for m in members), np.int64)
    owners = np.repeat(np.arange(len(members)), sizes)
    order = np.argsort(stamps, kind="stable")
    stamps, owners = stamps[order], owners[order]
    before = np.zeros((len(stamps) + 1, len(members)), np.int32)
    before[np.arange(1, len(stamps) + 1), owners] = 1
    before = before.cumsum(axis=0)  # row i: each member's posts among the first i
    near = (
        before[np.searchsorted(stamps, stamps + window_ms, "right")]
        > before[np.searchsorted(stamps, stamps - window_ms, "left")]
    )
    mine = owners[:, None] == np.arange(len(members))  # row i: the owner of post i
    counts = mine.T.astype(np.int64) @ near  # counts[a, b]: posts of a with a post of b near them
    index = {member: n for n, member in enumerate(members)}
    return int(counts[[index[a] for a, _ in edges], [index[b] for _, b in edges]].sum())


def _clusters(
    tag: str, found: Summary, times: dict[str, list[int]], handles: dict[str, str | None]
) -> list[model.CoordinationCluster]:
    """The clusters whose edges the summary lists: the first ``top``."""
    return [
        _cluster(tag, found, cluster, ties, times, handles)
        for cluster, ties in zip(found.clusters[: len(found.ties)], found.ties, strict=True)
    ]


def _cluster(
    tag: str,
    found: Summary,
    cluster: Cluster,
    edges: list[tuple[str, str]],
    times: dict[str, list[int]],
    handles: dict[str, str | None],
) -> model.CoordinationCluster:
    window_ms = found.query.window_s * 1000
    baseline = coactivity_of(times, cluster.members, edges, window_ms)
    a, b = edges[0]  # the strongest tie: edges are heaviest first
    return model.CoordinationCluster(
        size=len(cluster.members),
        members=[model.Member(id=m, handle=handles.get(m)) for m in cluster.members],
        weight=cluster.weight,
        coactivity_weight=baseline,
        evidence_pairs=cluster.pairs,
        posts=cluster.posts,
        evidence=_evidence(tag, found.query.behaviour, a, b),
    )


def evidence_command(tag: str, found: Network, cluster: Cluster) -> str:
    """The command that lists the evidence of the cluster's strongest tie (edges are heaviest
    first)."""
    members = set(cluster.members)
    a, b = next((a, b) for a, b, _ in found.edges() if a in members and b in members)
    return _evidence(tag, found.query.behaviour, a, b)


def _evidence(tag: str, behaviour: str, a: str, b: str) -> str:
    return shlex.join(["hashmon", "evidence", f"#{tag}", a, b, "--behaviour", behaviour])


async def _bursts_of(activity: Activity, first_minute: int) -> list[bursts.Burst]:
    """The bursts of the tag's series, scored in a thread while the networks are read."""
    return await asyncio.to_thread(bursts.bursts, await activity.series(first_minute))


def _bursts(found_bursts: list[bursts.Burst], coordinated_times: list[int]) -> list[model.Burst]:
    """Bursts, each with the share of its posts that coordinated accounts posted."""
    found = []
    for burst in found_bursts:
        start, end = burst.start * MINUTE_MS, (burst.end + 1) * MINUTE_MS
        theirs = bisect.bisect_left(coordinated_times, end) - bisect.bisect_left(
            coordinated_times, start
        )
        found.append(model.Burst(
            start=iso(start), peak=iso(burst.peak * MINUTE_MS),
            end=iso(burst.end * MINUTE_MS), posts=burst.posts, peak_posts=burst.peak_posts,
            peak_z=None if burst.peak_z == float("inf") else round(burst.peak_z, 2),
            coordinated_share=round(theirs / burst.posts, 4) if burst.posts else 0.0,
        ))  # fmt: skip
    return found


async def section(
    redis: Redis,
    tag: str,
    window: Window,
    first_ms: int,
    activity: Activity,
    top: int,
    everything: bool,
) -> model.Coordination:
    """``first_ms``: the tag's oldest retained post; ``everything``: the window holds them all."""
    # Reads that do not wait on each other overlap, so the server works while this parses.
    (found, matched), copies, found_bursts, found_cohorts = await asyncio.gather(
        pairlog.summaries(redis, tag, window, first_ms, top),
        copypaste.clusters(
            redis, tag, window, min_accounts=COPY_PASTE_MIN_ACCOUNTS, top=top, everything=everything
        ),
        _bursts_of(activity, first_ms // MINUTE_MS),
        activity.cohorts(),
    )
    shown = {m for summary in found for c in summary.clusters[:top] for m in c.members}
    coordinated = {m for summary in found for c in summary.clusters for m in c.members}
    # times: for co-activity, shares and bursts; handles: of the members of the clusters shown
    times, handles = await activity.times_and_handles(coordinated, shown)
    coordinated_times = sorted(t for posted in times.values() for t in posted)
    shown_clusters = await asyncio.gather(
        *(  # co-activity: numpy, in threads
            asyncio.to_thread(_clusters, tag, summary, times, handles) for summary in found
        )
    )
    networks = [
        model.BehaviourNetwork(
            behaviour=summary.query.behaviour,
            edges=summary.edges,
            accounts=sum(len(c.members) for c in summary.clusters),
            clusters=clusters,
            unpaired_viral_posts=summary.unpaired,
        )
        for summary, clusters in zip(found, shown_clusters, strict=True)
    ]
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
        posts_share=round(len(coordinated_times) / total, 4) if total else 0.0,
        matched_posts_share=round(matched / total, 4) if total else 0.0,
        copy_paste=[
            model.CopyPasteCluster(
                text=c.text,
                accounts=len(c.accounts),
                account_ids=c.accounts,
                posts=len(c.posts),
                first=iso(c.first_ms),
                last=iso(c.last_ms),
                span_s=c.span_s,
                first_text=first_text,
                variants=count,
                common_variants=common,
            )
            for c, (first_text, count, common) in zip(
                copies, await said.variants(redis, copies), strict=True
            )
        ],
        bursts=_bursts(found_bursts, coordinated_times),
        cohorts=model.Cohorts(**vars(found_cohorts)) if found_cohorts else None,
    )
