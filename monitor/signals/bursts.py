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
    ordered = np.sort(windows, axis=1)
    centre = (ordered[:, middle - 1] + ordered[:, middle]) / 2
    deviations = np.sort(np.abs(ordered - centre[:, None]), axis=1)
    spread = 1.4826 * ((deviations[:, middle - 1] + deviations[:, middle]) / 2)
    flat = spread == 0
    spread[flat] = 1.253314 * deviations[flat].mean(axis=1)  # exact: deviations are k/2
    with np.errstate(divide="ignore", invalid="ignore"):
        z: np.ndarray = (values - centre) / spread
    still_flat = spread == 0
    z[still_flat] = np.where(values[still_flat] > centre[still_flat], np.inf, 0.0)
    return z


def _baselines(dense: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Row i: the BASELINE_MINUTES values before position lo + i."""
    return sliding_window_view(dense[lo - BASELINE_MINUTES : hi - 1], BASELINE_MINUTES)


def stands_out(posts: Mapping[int, int], people: Mapping[int, int], first: int) -> dict[int, float]:
    """Minute -> its posts' z-score, for the minutes that stand out (by posts or by people).

    Minutes with a whole baseline are scored together, ``_CHUNK`` at a time; the few within
    ``BASELINE_MINUTES`` of ``first`` have shorter baselines and are scored one by one."""
    if not posts:
        return {}
    last = max(posts)
    dense_posts = np.zeros(last - first + 1)
    dense_people = np.zeros(last - first + 1)
    dense_posts[np.fromiter(posts, int) - first] = np.fromiter(posts.values(), float)
    dense_people[np.fromiter(people, int) - first] = np.fromiter(people.values(), float)
    judged = sorted(m for m, count in posts.items() if count >= MIN_POSTS)
    short = [m for m in judged if MIN_BASELINE <= m - first < BASELINE_MINUTES]
    found: dict[int, float] = {}
    for minute in short:
        baseline = slice(0, minute - first)
        z = robust_z(posts[minute], dense_posts[baseline].tolist())
        if (
            z >= Z_THRESHOLD
            or robust_z(people.get(minute, 0), dense_people[baseline].tolist()) >= Z_THRESHOLD
        ):
            found[minute] = z
    whole = np.array([m - first for m in judged if m - first >= BASELINE_MINUTES], dtype=int)
    for lo in range(BASELINE_MINUTES, len(dense_posts), _CHUNK):
        hi = min(lo + _CHUNK, len(dense_posts))  # positions lo..hi-1, scored all at once
        at = whole[(whole >= lo) & (whole < hi)]
        if not len(at):
            continue
        z_posts = _z_scores(dense_posts[lo:hi], _baselines(dense_posts, lo, hi))
        z_people = _z_scores(dense_people[lo:hi], _baselines(dense_people, lo, hi))
        picked = at - lo
        out = (z_posts[picked] >= Z_THRESHOLD) | (z_people[picked] >= Z_THRESHOLD)
        minutes = (at[out] + first).tolist()
        found.update(zip(minutes, z_posts[picked][out].tolist(), strict=True))
    return dict(sorted(found.items()))


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
