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
from planner.scheduling.patterns import Pattern, candidate_patterns, continue_from, workday_offsets
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

    def visit(self, c: int, r: int) -> VisitSpec:
        """Customer ``c`` as a visit on rep ``r``'s day (memoised: the instance never changes)."""
        v = self._memo.get((c, r))
        if v is None:
            v = self._memo[(c, r)] = VisitSpec(c, int(self.service_s[c]), self.start_windows(c, r))
        return v

    def patterns(self, c: int, r: int) -> list[Pattern]:
        """Allowed visit-day patterns of customer ``c`` if rep ``r`` sees it (keeping the spacing
        after its last visit before the horizon, if known)."""
        explicit = self.customers[c].allowed_days
        if explicit is not None:
            work = set(self.reps[r].day_offsets)
            return [Pattern(tuple(p)) for p in explicit if set(p) <= work]
        pats = candidate_patterns(self.frequencies[c], self.start, self.weeks,
                                  self.reps[r].rep.workdays, self.customers[c].id)
        last = self.last_visit[c] if self.last_visit else None
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


def build_instance(region: Region, start: dt.date, weeks: int, dist_km: np.ndarray, dur_s: np.ndarray,
                   customers: Sequence[Customer], reps: Sequence[Rep],
                   last_visits: Mapping[str, dt.date] | None = None,
                   priority: Collection[str] = ()) -> PlanningInstance:
    """Build the instance from the planned customers and reps and their travel matrices.

    ``last_visits``: each customer's last visit before ``start`` (from the previous plan), so
    that spacing continues across plan boundaries. ``priority``: customers owed visits (missed
    ones, "frequency debt"): seen as early as possible and placed first.

    ``dist_km``/``dur_s`` are indexed like ``[c.location for c in customers] + [start, end for
    each rep]``.
    """
    n = len(customers)
    rep_ids = {r.id: i for i, r in enumerate(reps)}
    rep_data = tuple(
        RepData(i, r, rep_day_spec(r, n + 2 * i, n + 2 * i + 1),
                tuple(workday_offsets(start, 7 * weeks, r.workdays)),
                r.cost_per_km, r.cost_per_hour / 3600.0, r.capacity)
        for i, r in enumerate(reps))
    return PlanningInstance(
        start=start, weeks=weeks, customers=tuple(customers), reps=rep_data,
        dist_km=dist_km, dur_s=np.ceil(dur_s).astype(np.int64),
        service_s=np.array([region.policy.visit_minutes_of(c) * 60 for c in customers], dtype=np.int64),
        frequencies=tuple(region.policy.frequency_of(c) for c in customers),
        pinned=tuple(rep_ids.get(c.rep_id) if c.rep_id else None for c in customers),
        last_visit=tuple((last_visits[c.id] - start).days if last_visits and c.id in last_visits
                         and last_visits[c.id] < start else None for c in customers),
        priority=frozenset(i for i, c in enumerate(customers) if c.id in set(priority)),
        demand=np.array([c.demand for c in customers], dtype=np.int64),
        ownership=region.ownership,
    )

