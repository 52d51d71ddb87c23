"""Exact timing of a fixed visit order: earliest feasible times with the lunch break placed.

Given a rep's day and an ordered list of visits, :func:`schedule_day` finds the earliest start
of every visit (each inside one of its start windows), places the lunch break in the leg where
it delays the day least, and returns ``None`` if the order cannot be done inside the working
day. It is exact for a fixed order (earliest starts dominate), pure Python, and fast enough to
be called inside local search. Times are seconds after midnight.
"""
from __future__ import annotations

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
    for a, b in windows:  # (sorted and disjoint: the first that has not closed)
        if ready <= b:
            return a if a > ready else ready
    return None


def _legs(seq: Sequence[VisitSpec], day: DaySpec, dur: np.ndarray) -> list[int]:
    """Driving seconds of each leg (start -> first visit ... last visit -> end), looked up once."""
    item = dur.item  # (one Python int per leg: far cheaper than numpy scalars in the passes)
    locs = [day.start_loc, *(v.loc for v in seq), day.end_loc]
    legs = [item(a, b) for a, b in zip(locs, locs[1:])]
    return legs if dur.dtype.kind in "iu" else [int(x) for x in legs]


def _run(seq: Sequence[VisitSpec], day: DaySpec, legs: list[int], depart: int, lunch_gap: int | None,
         first: int = 0, t: int | None = None, arrivals: list[int] | None = None,
         starts: list[int] | None = None) -> Timeline | None:
    """Earliest times from leg ``first`` on (leaving the previous stop at ``t``, after the times
    ``arrivals``/``starts`` of the visits before it), lunch in leg ``lunch_gap`` (taken on
    arrival if it can end in its window, else before driving); None if the day cannot be done."""
    t = depart if t is None else t
    arrivals = [] if arrivals is None else arrivals
    starts = [] if starts is None else starts
    lunch_at: int | None = None
    n = len(seq)
    work_end = day.work_end
    for i in range(first, n + 1):
        travel = legs[i]
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
        if i == n:
            if ready > work_end:
                return None
            return Timeline(depart, tuple(arrivals), tuple(starts), ready, lunch_at)
        v = seq[i]
        windows = v.start_windows
        if len(windows) == 1:
            a, b = windows[0]
            if ready > b:
                return None
            start = a if a > ready else ready
        else:
            start = _start_in_windows(ready, windows)
            if start is None:
                return None
        t = start + v.service
        if t > work_end:
            return None
        arrivals.append(arrive)
        starts.append(start)
    raise AssertionError("unreachable")


def _lunch_gaps(n: int, day: DaySpec, plain: Timeline, leave: list[int]) -> list[int]:
    """Legs worth trying for the lunch break, from the day timed without lunch (``plain``,
    leaving the stop before each leg at ``leave``). Lunch anywhere only delays, so a leg left
    after the latest lunch start cannot take it. Of the legs finished before the earliest lunch
    start, only the last is kept (lunch there means idling until the window opens; a later leg
    never idles longer)."""
    latest_start = day.lunch_latest_end - day.lunch_duration
    out: list[int] = []
    last_early = None
    for i in range(n + 1):
        if leave[i] > latest_start:
            break
        end_of_leg = plain.starts[i] if i < n else plain.back
        if end_of_leg < day.lunch_earliest:
            last_early = i
        else:
            out.append(i)
    return ([last_early] if last_early is not None else []) + out or list(range(n + 1))


def schedule_day(seq: Sequence[VisitSpec], day: DaySpec, dur: np.ndarray) -> Timeline | None:
    """Earliest feasible timeline for visiting ``seq`` in order, or None if impossible.

    The lunch break (if any) goes in the leg that brings the rep back earliest; the departure
    is then delayed as far as it can be without changing the return time (less idle time).
    The day is first timed without lunch: lunch only delays, so if that fails every placement
    fails, and each placement then re-times only the legs from its own on.
    """
    n = len(seq)
    if day.max_visits is not None and n > day.max_visits:
        return None
    if not seq:
        return Timeline(day.work_start, (), (), day.work_start, None)
    legs = _legs(seq, day, dur)
    plain = _run(seq, day, legs, day.work_start, None)
    if plain is None:
        return None
    best: Timeline | None = plain
    best_gap: int | None = None
    if day.has_lunch:
        leave = [day.work_start] + [s + v.service for s, v in zip(plain.starts, seq)]
        best = None
        # Lunch delays what follows by its length, less the waiting for windows it absorbs: no
        # placement brings the rep back before ``floor``, and the first that does is the answer.
        floor = plain.back + max(0, day.lunch_duration - sum(s - a for s, a in zip(plain.starts, plain.arrivals)))
        for g in _lunch_gaps(n, day, plain, leave):
            tl = _run(seq, day, legs, day.work_start, g, g, leave[g], list(plain.arrivals[:g]), list(plain.starts[:g]))
            if tl is not None and (best is None or tl.back < best.back):
                best, best_gap = tl, g
                if tl.back <= floor:
                    break
        if best is None:
            return None
    # Leave as late as possible for the same return time: just in time for the first visit. (The
    # first visit then starts when it did, inside its window, so every later time stays as it
    # is: only the departure and the first arrival change, and the day needs no re-timing.)
    late = best.starts[0] - legs[0]
    if late > day.work_start and best_gap != 0:
        best = Timeline(late, (best.starts[0], *best.arrivals[1:]), best.starts, best.back, best.lunch_start)
    return best
