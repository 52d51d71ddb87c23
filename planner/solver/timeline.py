"""Exact timing of a fixed visit order: earliest feasible times with the lunch break placed.

Given a rep's day and an ordered list of visits, :func:`schedule_day` finds the earliest start
of every visit (each inside one of its start windows), places the lunch break in the leg where
it delays the day least, and returns ``None`` if the order cannot be done inside the working
day. It is exact for a fixed order (earliest starts dominate), pure Python, and fast enough to
be called inside local search. Times are seconds after midnight.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class DaySpec:
    """A rep's day: where it starts and ends, working hours, lunch, visit cap."""

    start_loc: int
    end_loc: int
    work_start: int
    work_end: int
    lunch_duration: int = 0
    lunch_earliest: int = 0
    lunch_latest_end: int = 0
    max_visits: int | None = None

    @property
    def has_lunch(self) -> bool:
        """True if a lunch break must be placed."""
        return self.lunch_duration > 0


@dataclass(frozen=True)
class VisitSpec:
    """A visit: location, length and the windows in which it may start."""

    loc: int
    service: int
    start_windows: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Timeline:
    """Times of one day: departure, per-visit arrival and start, lunch start, return."""

    depart: int
    arrivals: tuple[int, ...]
    starts: tuple[int, ...]
    back: int
    lunch_start: int | None


def _start_in_windows(ready: int, windows: tuple[tuple[int, int], ...]) -> int | None:
    if len(windows) == 1:
        a, b = windows[0]
        return max(a, ready) if ready <= b else None
    ends = [b for _, b in windows]
    k = bisect_left(ends, ready)
    if k == len(windows):
        return None
    return max(windows[k][0], ready)


def _pass(seq: Sequence[VisitSpec], day: DaySpec, dur: np.ndarray, depart: int,
          lunch_gap: int | None) -> Timeline | None:
    t = depart
    prev = day.start_loc
    arrivals: list[int] = []
    starts: list[int] = []
    lunch_at: int | None = None
    legs = [v.loc for v in seq] + [day.end_loc]
    for i, loc in enumerate(legs):
        travel = int(dur[prev, loc])
        if lunch_gap == i:
            arrive = t + travel
            lunch = max(arrive, day.lunch_earliest)
            if lunch + day.lunch_duration <= day.lunch_latest_end:
                ready = lunch + day.lunch_duration
            else:
                lunch = max(t, day.lunch_earliest)
                if lunch + day.lunch_duration > day.lunch_latest_end:
                    return None
                arrive = ready = lunch + day.lunch_duration + travel
            lunch_at = lunch
        else:
            arrive = ready = t + travel
        if i == len(seq):
            if ready > day.work_end:
                return None
            return Timeline(depart, tuple(arrivals), tuple(starts), ready, lunch_at)
        v = seq[i]
        start = _start_in_windows(ready, v.start_windows)
        if start is None or start + v.service > day.work_end:
            return None
        arrivals.append(arrive)
        starts.append(start)
        t = start + v.service
        prev = loc
    raise AssertionError("unreachable")


def _lunch_gaps(seq: Sequence[VisitSpec], day: DaySpec, dur: np.ndarray) -> list[int | None]:
    """Legs worth trying for the lunch break. Without lunch, the rep leaves each leg at the
    earliest; lunch anywhere only delays, so a leg left after the latest lunch start cannot take
    it. Of the legs finished before the earliest lunch start, only the last is kept (lunch there
    means idling until the window opens; a later leg never idles longer)."""
    latest_start = day.lunch_latest_end - day.lunch_duration
    t = day.work_start
    prev = day.start_loc
    out: list[int | None] = []
    last_early = None
    for i, v in enumerate([*seq, None]):
        if t > latest_start:
            break
        loc = day.end_loc if v is None else v.loc
        arrive = t + int(dur[prev, loc])
        if v is None:
            end_of_leg = arrive
        else:
            start = _start_in_windows(arrive, v.start_windows)
            if start is None:  # infeasible even without lunch: let the passes say so
                return list(range(len(seq) + 1))
            end_of_leg = start
        if end_of_leg < day.lunch_earliest:
            last_early = i
        else:
            out.append(i)
        if v is not None:
            t = end_of_leg + v.service
            prev = loc
    return ([last_early] if last_early is not None else []) + out or list(range(len(seq) + 1))


def schedule_day(seq: Sequence[VisitSpec], day: DaySpec, dur: np.ndarray) -> Timeline | None:
    """Earliest feasible timeline for visiting ``seq`` in order, or None if impossible.

    The lunch break (if any) goes in the leg that brings the rep back earliest; the departure
    is then delayed as far as it can be without changing the return time (less idle time).
    """
    if day.max_visits is not None and len(seq) > day.max_visits:
        return None
    if not seq:
        return Timeline(day.work_start, (), (), day.work_start, None)
    gaps: list[int | None] = _lunch_gaps(seq, day, dur) if day.has_lunch else [None]
    best: Timeline | None = None
    best_gap: int | None = None
    for g in gaps:
        tl = _pass(seq, day, dur, day.work_start, g)
        if tl is not None and (best is None or tl.back < best.back):
            best, best_gap = tl, g
    if best is None:
        return None
    # Leave as late as possible for the same return time: just in time for the first visit.
    late = best.starts[0] - int(dur[day.start_loc, seq[0].loc])
    if late > day.work_start and best_gap != 0:
        tl = _pass(seq, day, dur, late, best_gap)
        if tl is not None and tl.back <= best.back:
            best = tl
    return best
