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

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

BASELINE_MINUTES = 60
MIN_BASELINE = 10
MIN_POSTS = 5
Z_THRESHOLD = 3.5
MAX_GAP = 2
_CHUNK = 50_000  # minutes scored at once: a chunk holds a few arrays of 60 floats per minute


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


def _z_scores(values: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """robust_z of each value against its row of ``windows`` (rows of BASELINE_MINUTES, an even
    count), with the same arithmetic."""
    middle = BASELINE_MINUTES // 2
    # Sorted as float32, twice as fast and exact: counts and their deviations from a median
    # are multiples of 1/2 far below 2**23. The arithmetic after the sorts is float64.
    ordered = np.sort(windows.astype(np.float32), axis=1)
    centre = (ordered[:, middle - 1].astype(float) + ordered[:, middle]) / 2
    deviations = np.sort(np.abs(ordered - centre[:, None].astype(np.float32)), axis=1)
    spread = 1.4826 * ((deviations[:, middle - 1].astype(float) + deviations[:, middle]) / 2)
    flat = spread == 0
    spread[flat] = 1.253314 * deviations[flat].mean(axis=1, dtype=float)  # an exact sum
    with np.errstate(divide="ignore", invalid="ignore"):
        z: np.ndarray = (values - centre) / spread
    still_flat = spread == 0
    z[still_flat] = np.where(values[still_flat] > centre[still_flat], np.inf, 0.0)
    return z


def _baselines(dense: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Row i: the BASELINE_MINUTES values before position lo + i."""
    return sliding_window_view(dense[lo - BASELINE_MINUTES : hi - 1], BASELINE_MINUTES)


@dataclass(frozen=True)
class Series:
    """Posts and people per minute, from ``first`` (the tag's oldest retained minute) on."""

    first: int
    posts: np.ndarray  # float64, one per minute
    people: np.ndarray

    @classmethod
    def of(cls, posts: Mapping[int, int], people: Mapping[int, int], first: int) -> "Series":
        """From the minutes that have posts."""
        size = max(posts) - first + 1 if posts else 0
        dense_posts, dense_people = np.zeros(size), np.zeros(size)
        dense_posts[np.fromiter(posts, int, len(posts)) - first] = list(posts.values())
        dense_people[np.fromiter(people, int, len(people)) - first] = list(people.values())
        return cls(first, dense_posts, dense_people)


def stands_out(series: Series) -> dict[int, float]:
    """Minute -> its posts' z-score, for the minutes that stand out (by posts or by people).

    Minutes with a whole baseline are scored together, ``_CHUNK`` at a time; the few within
    ``BASELINE_MINUTES`` of the first have shorter baselines and are scored one by one."""
    posts, people = series.posts, series.people
    judged = np.flatnonzero(posts >= MIN_POSTS)
    found: dict[int, float] = {}
    for at in judged[(judged >= MIN_BASELINE) & (judged < BASELINE_MINUTES)].tolist():
        z = robust_z(posts[at].item(), posts[:at].tolist())
        if z >= Z_THRESHOLD or robust_z(people[at].item(), people[:at].tolist()) >= Z_THRESHOLD:
            found[series.first + at] = z
    whole = judged[judged >= BASELINE_MINUTES]
    for lo in range(BASELINE_MINUTES, len(posts), _CHUNK):
        hi = min(lo + _CHUNK, len(posts))  # positions lo..hi-1, scored all at once
        at = whole[(whole >= lo) & (whole < hi)]
        if not len(at):
            continue
        z_posts = _z_scores(posts[lo:hi], _baselines(posts, lo, hi))[at - lo]
        z_people = _z_scores(people[lo:hi], _baselines(people, lo, hi))[at - lo]
        out = (z_posts >= Z_THRESHOLD) | (z_people >= Z_THRESHOLD)
        found.update(zip((at[out] + series.first).tolist(), z_posts[out].tolist(), strict=True))
    return dict(sorted(found.items()))


def bursts(series: Series) -> list[Burst]:
    """Bursts in time order."""
    marked = stands_out(series)
    runs: list[list[int]] = []
    for minute in marked:
        if runs and minute - runs[-1][-1] <= MAX_GAP + 1:
            runs[-1].append(minute)
        else:
            runs.append([minute])
    found = []
    for run in runs:
        start, end = run[0] - series.first, run[-1] - series.first
        peak = min(run, key=lambda m: (-series.posts[m - series.first], m))
        total = int(series.posts[start : end + 1].sum())
        peak_posts = int(series.posts[peak - series.first])
        found.append(Burst(run[0], peak, run[-1], total, peak_posts, marked[peak]))
    return found
