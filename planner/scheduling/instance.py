"""The index-based planning instance: domain objects converted once, then read by the engine.

Customer ``i`` (active customers only, sorted by id) sits at location ``i``; rep ``r`` starts at
location ``n + 2r`` and ends at ``n + 2r + 1``. Matrices are numpy arrays (km and seconds).
Times are seconds after midnight. Nothing here changes after construction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Collection, Mapping, Sequence

import numpy as np

from planner.domain import Customer, Rep, Region
from planner.scheduling.patterns import (Pattern, candidate_patterns, continue_from, flexible_patterns,
                                         workday_offsets)
from planner.solver.timeline import DaySpec, VisitSpec


@dataclass(frozen=True)
class RepData:
    """A rep as the engine sees it."""

    index: int
    rep: Rep
    day: DaySpec
    day_offsets: tuple[int, ...]
    cost_per_km: float
    cost_per_second: float
    capacity: int | None = None
    restricted: bool = False  # some workdays of the horizon are not available (absence, re-plan)

    @property
    def day_offset_set(self) -> frozenset[int]:
        """The rep's working day offsets, as a set."""
        return frozenset(self.day_offsets)

    @property
    def capacity_s(self) -> int:
        """Working seconds in one day, lunch excluded."""
        return self.day.work_end - self.day.work_start - self.day.lunch_duration


@dataclass(frozen=True)
class PlanningInstance:
    """Everything the scheduling and routing engine needs, index-based and immutable."""

    start: dt.date
    weeks: int
    customers: tuple[Customer, ...]
    reps: tuple[RepData, ...]
    dist_km: np.ndarray
    dur_s: np.ndarray
    service_s: np.ndarray
    frequencies: tuple
    pinned: tuple[int | None, ...]
    last_visit: tuple[int | None, ...] = ()
    priority: frozenset[int] = frozenset()
    demand: np.ndarray | None = None
    ownership: bool = True
    first_day: int = 0
    history: tuple[tuple[int, ...], ...] = ()
    day_windows: Mapping[tuple[int, int], tuple[tuple[int, int], ...]] = field(default_factory=dict)
    custom_patterns: Mapping[tuple[int, int], tuple[Pattern, ...]] | None = None
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n(self) -> int:
        """Number of (active) customers."""
        return len(self.customers)

    @property
    def n_days(self) -> int:
        """Days in the horizon."""
        return 7 * self.weeks

    def date(self, offset: int) -> dt.date:
        """The date of a day offset."""
        return self.start + dt.timedelta(days=offset)

    def start_loc(self, r: int) -> int:
        """Location index of rep ``r``'s start."""
        return self.n + 2 * r

    def start_windows(self, c: int, r: int) -> tuple[tuple[int, int], ...]:
        """Windows (seconds) in which customer ``c``'s visit may start on rep ``r``'s day."""
        return _start_windows(self.customers[c], self.reps[r].day, int(self.service_s[c]))

    def start_windows_on(self, c: int, r: int, d: int | None) -> tuple[tuple[int, int], ...]:
        """:meth:`start_windows` on day offset ``d``, narrowed by a fixed appointment's time there."""
        wins = self.start_windows(c, r)
        fixed = self.day_windows.get((c, d)) if d is not None and self.day_windows else None
        if fixed is None:
            return wins
        return tuple((max(a, x), min(b, y)) for a, b in wins for x, y in fixed if max(a, x) <= min(b, y))

    def visit(self, c: int, r: int, d: int | None = None) -> VisitSpec:
        """Customer ``c`` as a visit on rep ``r``'s day (on day offset ``d``, if a fixed appointment
        sets its time that day). Memoised: the instance never changes."""
        if d is not None and (c, d) in self.day_windows:
            key: tuple = (c, r, d)
        else:
            key = (c, r)
        v = self._memo.get(key)
        if v is None:
            v = self._memo[key] = VisitSpec(c, int(self.service_s[c]), self.start_windows_on(c, r, d))
        return v

    def patterns(self, c: int, r: int) -> list[Pattern]:
        """Allowed visit-day patterns of customer ``c`` if rep ``r`` sees it (keeping the spacing
        after its last visit before the horizon, if known)."""
        if self.custom_patterns is not None:
            return list(self.custom_patterns.get((c, r), ()))
        explicit = self.customers[c].allowed_days
        work = set(self.reps[r].day_offsets)
        hist = self.history[c] if self.history else ()
        if explicit is not None:
            f0 = self.first_day
            return [Pattern(tuple(d for d in p if d >= f0)) for p in explicit
                    if {d for d in p if d >= f0} <= work and {d for d in p if d < f0} == set(hist)]
        last = self.last_visit[c] if self.last_visit else None
        if self.reps[r].restricted or hist:
            pats = flexible_patterns(self.frequencies[c], self.start, self.weeks, self.reps[r].rep.workdays,
                                     self.reps[r].day_offsets, customer_id=self.customers[c].id,
                                     history=([last] if last is not None else []) + list(hist),
                                     first_day=self.first_day)
        else:
            pats = candidate_patterns(self.frequencies[c], self.start, self.weeks,
                                      self.reps[r].rep.workdays, self.customers[c].id)
            if last is not None and pats:
                pats = continue_from(pats, self.frequencies[c], last)
        if c in self.priority:  # owed visits (frequency debt): the earlier the better
            pats = [Pattern(p.days, p.penalty + (2.0 * p.days[0] / 7 if p.days else 0.0)) for p in pats]
        return pats


def _start_windows(c: Customer, day: DaySpec, service: int) -> tuple[tuple[int, int], ...]:
    opens = [(w.start * 60, w.end * 60) for w in c.opening] or [(day.work_start, day.work_end)]
    out = []
    for o, e in opens:
        a, b = max(o, day.work_start), min(e, day.work_end)
        if b - service >= a:
            out.append((a, b - service))
    return tuple(out)


def rep_day_spec(rep: Rep, start_loc: int, end_loc: int) -> DaySpec:
    """The timeline spec of a rep's working day (seconds)."""
    lunch = rep.lunch if rep.lunch_applies() else None
    return DaySpec(
        start_loc=start_loc, end_loc=end_loc,
        work_start=rep.work_start * 60, work_end=rep.work_end * 60,
        lunch_duration=lunch.minutes * 60 if lunch else 0,
        lunch_earliest=lunch.earliest * 60 if lunch else 0,
        lunch_latest_end=lunch.latest * 60 if lunch else 0,
        max_visits=rep.max_visits_per_day,
    )


def instance_locations(customers: Sequence[Customer], reps: Sequence[Rep]) -> list:
    """The locations an instance's matrices are indexed by: the customers, then each rep's start
    and end (see :func:`build_instance`)."""
    locs = [c.location for c in customers]
    for r in reps:
        locs += [r.start, r.end_location]
    return locs


def build_instance(region: Region, start: dt.date, weeks: int, dist_km: np.ndarray, dur_s: np.ndarray,
                   customers: Sequence[Customer], reps: Sequence[Rep],
                   last_visits: Mapping[str, dt.date] | None = None,
                   priority: Collection[str] = (), *, absences: Mapping[str, Collection[dt.date]] | None = None,
                   first_day: int = 0, history: Mapping[str, Sequence[int]] | None = None,
                   day_windows: Mapping[tuple[str, int], tuple[int, int]] | None = None) -> PlanningInstance:
    """Build the instance from the planned customers and reps and their travel matrices.

    ``last_visits``: each customer's last visit before ``start`` (from the previous plan), so
    that spacing continues across plan boundaries. ``priority``: customers owed visits (missed
    ones, "frequency debt"): seen as early as possible and placed first.

    ``absences``: rep id -> dates the rep is away (no visits then). ``first_day``: a re-plan
    plans only day offsets from there on; ``history``: customer id -> its visit offsets before
    ``first_day`` (they count for frequency and spacing). ``day_windows``: (customer id, day
    offset) -> (earliest, latest) start in minutes, for fixed appointments.

    ``dist_km``/``dur_s`` are indexed like ``[c.location for c in customers] + [start, end for
    each rep]``.
    """
    n = len(customers)
    rep_ids = {r.id: i for i, r in enumerate(reps)}
    rep_data = []
    for i, r in enumerate(reps):
        offsets = workday_offsets(start, 7 * weeks, r.workdays)
        away = {(d - start).days for d in (absences or {}).get(r.id, ())}
        usable = tuple(o for o in offsets if o >= first_day and o not in away)
        rep_data.append(RepData(i, r, rep_day_spec(r, n + 2 * i, n + 2 * i + 1), usable, r.cost_per_km,
                                r.cost_per_hour / 3600.0, r.capacity, restricted=len(usable) < len(offsets)))
    cindex = {c.id: i for i, c in enumerate(customers)}
    return PlanningInstance(
        start=start, weeks=weeks, customers=tuple(customers), reps=tuple(rep_data),
        dist_km=dist_km, dur_s=np.ceil(dur_s).astype(np.int64),
        service_s=np.array([region.policy.visit_minutes_of(c) * 60 for c in customers], dtype=np.int64),
        frequencies=tuple(region.policy.frequency_of(c) for c in customers),
        pinned=tuple(rep_ids.get(c.rep_id) if c.rep_id else None for c in customers),
        last_visit=tuple((last_visits[c.id] - start).days if last_visits and c.id in last_visits
                         and last_visits[c.id] < start else None for c in customers),
        priority=frozenset(i for i, c in enumerate(customers) if c.id in set(priority)),
        demand=np.array([c.demand for c in customers], dtype=np.int64),
        ownership=region.ownership,
        first_day=first_day,
        history=tuple(tuple(sorted(history.get(c.id, ()))) for c in customers) if history else (),
        day_windows={(cindex[cid], d): ((a * 60, b * 60),) for (cid, d), (a, b) in (day_windows or {}).items()
                     if cid in cindex},
    )

