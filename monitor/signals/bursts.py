"""Bursts: minutes whose posts or people stand out against the minutes just before them.

For each minute with at least ``MIN_POSTS`` posts, the baseline is the ``BASELINE_MINUTES``
minutes before it (empty minutes count as 0; at least ``MIN_BASELINE`` of them must lie in the
tag's retained history). Its robust z-score is (x - median) / (1.4826 MAD), the modified z-score
of Iglewicz and Hoaglin (1993); when the MAD is 0, 1.253314 times the mean absolute deviation
stands in for it, and when that is 0 too, any x above the median stands out. A minute stands out
when its posts or its people reach z >= ``Z_THRESHOLD`` (3.5, their recommended cut-off).
Minutes that stand out, with gaps of at most ``MAX_GAP`` quiet minutes, form one burst; its peak
is its busiest minute (the earliest on a tie).
"""

import statistics
from collections.abc import Mapping
from dataclasses import dataclass

BASELINE_MINUTES = 60
MIN_BASELINE = 10
MIN_POSTS = 5
Z_THRESHOLD = 3.5
MAX_GAP = 2


@dataclass(frozen=True)
class Burst:
    start: int  # minute numbers (epoch minutes), inclusive
    peak: int
    end: int
    posts: int
    peak_posts: int
    peak_z: float  # of the peak minute's posts; inf when its baseline never varies


def _median(ordered: list[float]) -> float:
    """statistics.median of a list already sorted."""
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def robust_z(value: float, baseline: list[int]) -> float:
    centre = _median(sorted(baseline))
    deviations = sorted([abs(x - centre) for x in baseline])
    spread = 1.4826 * _median(deviations)
    if spread == 0:
        spread = 1.253314 * statistics.fmean(deviations)
    if spread == 0:
        return float("inf") if value > centre else 0.0
    return (value - centre) / spread


def stands_out(posts: Mapping[int, int], people: Mapping[int, int], first: int) -> dict[int, float]:
    """Minute -> its posts' z-score, for the minutes that stand out (by posts or by people)."""
    if not posts:
        return {}
    last = max(posts)
    dense_posts = [posts.get(m, 0) for m in range(first, last + 1)]
    dense_people = [people.get(m, 0) for m in range(first, last + 1)]
    found = {}
    for minute, count in posts.items():
        start = max(minute - BASELINE_MINUTES, first)
        if count < MIN_POSTS or minute - start < MIN_BASELINE:
            continue
        z_posts = robust_z(count, dense_posts[start - first : minute - first])
        if (
            z_posts >= Z_THRESHOLD
            or robust_z(people.get(minute, 0), dense_people[start - first : minute - first])
            >= Z_THRESHOLD
        ):
            found[minute] = z_posts
    return found


def bursts(posts: Mapping[int, int], people: Mapping[int, int], first: int) -> list[Burst]:
    """Bursts in time order; ``first`` is the tag's oldest retained minute."""
    marked = stands_out(posts, people, first)
    runs: list[list[int]] = []
    for minute in sorted(marked):
        if runs and minute - runs[-1][-1] <= MAX_GAP + 1:
            runs[-1].append(minute)
        else:
            runs.append([minute])
    found = []
    for run in runs:
        peak = min(run, key=lambda m: (-posts[m], m))
        total = sum(posts.get(m, 0) for m in range(run[0], run[-1] + 1))
        found.append(Burst(run[0], peak, run[-1], total, posts[peak], marked[peak]))
    return found
