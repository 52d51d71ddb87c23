"""Capacity pre-check: before solving, does the work fit in the reps' hours?

For every rep and week of the horizon the check compares the hours the rep *has* (working
hours minus lunch, on the rep's workdays, minus absent days) with the hours the rep's
customers *need* (visit time plus an estimate of the driving), and reports by grade, by
territory and for the whole region which weeks are over capacity and by how much, which
customers no rep can serve at all, and what-if answers (more reps; another frequency for a
grade).

It follows the engine's own first steps, so that its figures describe the plan that would be
made:

1. *Eligibility* exactly as the engine decides it (:func:`planner.scheduling.eligibility.eligibility`): a rep may see a
   customer when an opening window fits the visit inside the rep's day, the frequency has a
   visit-day pattern on the rep's workdays, and a lone visit from the rep's start fits in a
   day; pins restrict to the pinned rep. A customer without an eligible rep is *unservable*
   and reported with the engine's reason code.
2. *Territories*: :func:`planner.scheduling.territory.assign_territories` on the instance of
   :func:`planner.scheduling.instance.build_instance`, with the engine's visit counts.
3. *Visit days*: :func:`planner.scheduling.day_choice.choose_patterns` per rep, as the engine
   does before routing. So the weeks in which a fortnightly or four-weekly customer falls are
   the engine's first choice, not an average (the fixture's fortnightly visits fall 49, 29,
   49, 28 over four weeks), and a horizon that ends inside a block gets exactly the visits the
   engine plans.
4. *Driving estimate* per rep and day: a tour from the rep's start through the day's customers
   back to its end location, built by nearest neighbour and improved by 2-opt (segment
   reversals priced on the matrix as it is, so asymmetric matrices are fine), on the travel
   matrix the planner uses. Opening windows, lunch and the engine's later improvement phases
   are ignored. A day's driving is attributed to its stops in proportion to their detours.

   Measured against plans of the fixture region ``fixtures/hangzhou`` (220 customers, 6 reps,
   from 2026-11-30, haversine travel) made by :func:`planner.pipeline.plan_region`: the
   estimate of the region's driving is *above* the routed plans' driving, by +12% to +21%
   (1 week, 5-10 s, seeds 1 and 3: 18.9 h against 15.7-16.8 h; 2 weeks, 15 s: 37.3 h against
   30.8 h; 4 weeks, 30 s: 76.9 h against 64.9 h). The engine's improvement phases move visits
   to other days and reps and its routing (lunch, windows, polish) beats nearest neighbour and
   2-opt, so the pre-check errs on the safe side: it may flag a tight week that the plan
   fits, not the reverse. Driving is about 14% of the required hours there, so the required
   hours are over-estimated by about 2-3%. ``tests/scheduling/test_capacity.py`` re-measures
   the total on a short plan (must be between 5% below and 25% above).

Absences go into the instance as the engine's (``build_instance(absences=...)``): an absent
day gives no hours, no visit is put on it (the visit-day patterns move to other days of the
block), and the territory split accounts for the hours lost. Weekly figures are compared, not
daily ones: a visit on a day that is too full may move to another day of the same week. When
a rep is over capacity while the region as a whole is not, the findings say that other reps
have hours to spare in that week. Everything here is pure: no database, no CLI, no API.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Collection, Mapping, Sequence

import numpy as np

from planner.domain import (DomainError, Frequency, GradeRule, Location, LunchBreak, Region, Rep,
                            VisitPolicy)
from planner.geo.travel import TravelMatrix
from planner.scheduling.day_choice import choose_patterns
from planner.scheduling.eligibility import eligibility
from planner.scheduling.instance import PlanningInstance, build_instance, instance_locations
from planner.scheduling.patterns import Pattern, workday_offsets
from planner.scheduling.territory import assign_territories

HOUR_S = 3600.0
EPS = 1e-9
EXTRA_REP_PREFIX = "NEW"


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GradeHours:
    """One grade's part of a rep-week (or of an overload): visits, visit hours and the share of
    the estimated driving attributed to its visits (by each stop's detour in the day's tour)."""

    grade: str
    visits: int
    visit_hours: float
    travel_hours: float

    @property
    def hours(self) -> float:
        """Visit plus attributed driving hours."""
        return self.visit_hours + self.travel_hours


class _HoursLoad:
    """Required, missing and load figures from ``available_hours``, ``visit_hours`` and
    ``travel_hours`` (shared by a rep's week and the region's week)."""

    available_hours: float
    visit_hours: float
    travel_hours: float

    @property
    def required_hours(self) -> float:
        """Visit hours plus estimated driving hours."""
        return self.visit_hours + self.travel_hours

    @property
    def over_hours(self) -> float:
        """Hours required beyond the hours available (0 when it fits)."""
        return max(0.0, self.required_hours - self.available_hours)

    @property
    def load(self) -> float | None:
        """Required / available hours (None when nothing is available but something required)."""
        if self.available_hours > EPS:
            return self.required_hours / self.available_hours
        return 0.0 if self.required_hours <= EPS else None


@dataclass(frozen=True)
class RepWeekLoad(_HoursLoad):
    """One rep's week (``week`` counts from 0): hours available against hours required.

    ``days``: working days the rep is there (workdays minus absences); ``absent_days``: workdays
    lost to absences; ``max_visits``: the week's visit cap (``max_visits_per_day`` × ``days``),
    None without a cap.
    """

    rep_id: str
    week: int
    week_start: dt.date
    days: int
    absent_days: int
    available_hours: float
    visits: int
    visit_hours: float
    travel_hours: float
    max_visits: int | None
    by_grade: tuple[GradeHours, ...]


@dataclass(frozen=True)
class WeekTotal(_HoursLoad):
    """The whole region in one week (all planned reps together)."""

    week: int
    week_start: dt.date
    available_hours: float
    visits: int
    visit_hours: float
    travel_hours: float


@dataclass(frozen=True)
class GradeLoad:
    """What one grade requires: per week (visits, visit hours, attributed driving) and over the
    horizon. ``customers``: active customers of the grade that some rep can serve;
    ``unservable``: those no rep can serve (their visits are not in the figures)."""

    grade: str
    customers: int
    unservable: int
    visits_per_week: tuple[int, ...]
    visit_hours_per_week: tuple[float, ...]
    travel_hours_per_week: tuple[float, ...]

    @property
    def visits(self) -> int:
        """Visits over the horizon."""
        return sum(self.visits_per_week)

    @property
    def visit_hours(self) -> float:
        """Visit hours over the horizon."""
        return sum(self.visit_hours_per_week)

    @property
    def travel_hours(self) -> float:
        """Driving hours attributed to the grade over the horizon."""
        return sum(self.travel_hours_per_week)

    @property
    def hours(self) -> float:
        """Visit plus attributed driving hours over the horizon."""
        return self.visit_hours + self.travel_hours

    @property
    def hours_per_week(self) -> tuple[float, ...]:
        """Visit plus attributed driving hours, week by week."""
        return tuple(a + b for a, b in zip(self.visit_hours_per_week, self.travel_hours_per_week))


@dataclass(frozen=True)
class Overload:
    """A rep (territory) over capacity in one week.

    ``kind`` ``"hours"``: ``required`` hours exceed ``available`` hours by ``over``.
    ``kind`` ``"visits"``: ``required`` visits exceed the week's visit cap ``available`` by
    ``over`` visits. ``by_grade`` is the week's load by grade, largest first; ``main_grade``
    the grade with the most hours.
    """

    kind: str
    rep_id: str
    week: int
    week_start: dt.date
    available: float
    required: float
    over: float
    by_grade: tuple[GradeHours, ...]

    @property
    def main_grade(self) -> str | None:
        """The grade with the most hours in this rep-week."""
        return self.by_grade[0].grade if self.by_grade else None

    def message(self) -> str:
        """One line for people."""
        grades = ", ".join(f"{g.grade} {g.hours:.1f} h" for g in self.by_grade if g.visits)
        if self.kind == "visits":
            return (f"rep {self.rep_id}, week {self.week + 1} ({self.week_start}): {self.required:.0f} visits "
                    f"for a cap of {self.available:.0f}: {self.over:.0f} visit(s) too many")
        return (f"rep {self.rep_id}, week {self.week + 1} ({self.week_start}): {self.required:.1f} h required "
                f"for {self.available:.1f} h available: over by {self.over:.1f} h"
                + (f" (by grade: {grades}; mostly grade {self.main_grade})" if grades else ""))


@dataclass(frozen=True)
class Unservable:
    """An active customer no planned rep can serve, with the engine's reason ``code`` and the
    visits and visit hours it would need over the horizon (at its average frequency)."""

    customer_id: str
    grade: str
    code: str
    reason: str
    visits: float
    visit_hours: float


@dataclass(frozen=True)
class Summary:
    """Headline figures of a scenario (for before/after comparisons)."""

    available_hours: float
    visit_hours: float
    travel_hours: float
    over_hours: float
    visits_over_caps: int
    overloaded_rep_weeks: int
    region_over_hours: float
    max_load: float | None
    unservable: int

    @property
    def required_hours(self) -> float:
        """Visit plus driving hours over the horizon."""
        return self.visit_hours + self.travel_hours


@dataclass(frozen=True)
class Scenario:
    """The check of one set of reps and policy: every rep-week, the region per week, the grades,
    the overloads and unservable customers. ``territory`` maps each servable customer to the
    rep the engine's territory assignment gives it."""

    start: dt.date
    weeks: int
    rep_ids: tuple[str, ...]
    rep_weeks: tuple[RepWeekLoad, ...]
    week_totals: tuple[WeekTotal, ...]
    grades: tuple[GradeLoad, ...]
    overloads: tuple[Overload, ...]
    unservable: tuple[Unservable, ...]
    territory: Mapping[str, str]

    @property
    def fits(self) -> bool:
        """True when no rep-week is over capacity and every customer can be served."""
        return not self.overloads and not self.unservable

    @property
    def over_hours(self) -> float:
        """Sum of the hours by which rep-weeks are over capacity."""
        return sum(w.over_hours for w in self.rep_weeks)

    @property
    def region_over_hours(self) -> float:
        """Sum over the weeks of the hours the whole region lacks (not fixable by rebalancing)."""
        return sum(w.over_hours for w in self.week_totals)

    def rep_over_hours(self) -> dict[str, float]:
        """Over-capacity hours per rep over the horizon."""
        out = {r: 0.0 for r in self.rep_ids}
        for w in self.rep_weeks:
            out[w.rep_id] += w.over_hours
        return out

    @property
    def summary(self) -> Summary:
        """Headline figures."""
        loads = [w.load for w in self.rep_weeks]
        return Summary(
            available_hours=sum(w.available_hours for w in self.week_totals),
            visit_hours=sum(w.visit_hours for w in self.week_totals),
            travel_hours=sum(w.travel_hours for w in self.week_totals),
            over_hours=self.over_hours,
            visits_over_caps=int(sum(o.over for o in self.overloads if o.kind == "visits")),
            overloaded_rep_weeks=len({(o.rep_id, o.week) for o in self.overloads}),
            region_over_hours=self.region_over_hours,
            max_load=None if any(x is None for x in loads) else max(loads, default=0.0),
            unservable=len(self.unservable))

    def findings(self) -> tuple[str, ...]:
        """What is over capacity and why, in sentences (empty when everything fits)."""
        out = [o.message() for o in self.overloads]
        for t in self.week_totals:
            if t.over_hours > EPS:
                out.append(f"the region as a whole is over capacity in week {t.week + 1} ({t.week_start}) by "
                           f"{t.over_hours:.1f} h ({t.required_hours:.1f} h required, {t.available_hours:.1f} h "
                           "available): rebalancing territories cannot fix it; more reps or lower frequencies can")
            elif any(o.week == t.week and o.kind == "hours" for o in self.overloads):
                out.append(f"week {t.week + 1}: the region has {t.available_hours - t.required_hours:.1f} h to spare "
                           "in total; the overload is a territory imbalance (other reps have hours left)")
        by_code = Counter(u.code for u in self.unservable)
        for code, n in sorted(by_code.items()):
            ids = [u.customer_id for u in self.unservable if u.code == code]
            shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
            out.append(f"{n} customer(s) no rep can serve [{code}]: {shown}")
        return tuple(out)


@dataclass(frozen=True)
class AddedRep:
    """A what-if rep: like the average rep, starting at the centre (medoid customer) of the
    territory of ``near_rep_id``."""

    rep_id: str
    near_rep_id: str
    lat: float
    lon: float


@dataclass(frozen=True)
class FrequencyChange:
    """A what-if frequency for every customer of ``grade`` that has no frequency of its own."""

    grade: str
    before: Frequency
    after: Frequency


@dataclass(frozen=True)
class WhatIf:
    """A what-if scenario with its before (the base check) and after figures."""

    kind: str
    description: str
    added_reps: tuple[AddedRep, ...]
    frequency_changes: tuple[FrequencyChange, ...]
    before: Summary
    after: Summary
    scenario: Scenario

    def rep_over_hours(self, base: Scenario) -> dict[str, tuple[float, float]]:
        """Over-capacity hours per rep, before and after (added reps: 0 before)."""
        a, b = base.rep_over_hours(), self.scenario.rep_over_hours()
        return {r: (a.get(r, 0.0), b.get(r, 0.0)) for r in dict.fromkeys([*a, *b])}


@dataclass(frozen=True)
class CapacityReport:
    """The capacity pre-check: the base scenario and the requested what-ifs."""

    start: dt.date
    weeks: int
    base: Scenario
    what_ifs: tuple[WhatIf, ...] = ()

    @property
    def fits(self) -> bool:
        """True when the base scenario fits (what-ifs do not count)."""
        return self.base.fits

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (dates ISO, hours rounded to 0.01)."""
        return {"start": self.start.isoformat(), "end": (self.start + dt.timedelta(days=7 * self.weeks - 1)).isoformat(),
                "weeks": self.weeks, "fits": self.fits, **_scenario_dict(self.base),
                "what_ifs": [_what_if_dict(w, self.base) for w in self.what_ifs]}


# ----------------------------------------------------------------------------------------------
# The check
# ----------------------------------------------------------------------------------------------
def capacity_check(region: Region, start: dt.date, weeks: int, *, travel: TravelMatrix,
                   absences: Mapping[str, Collection[dt.date]] | None = None,
                   rep_ids: Sequence[str] | None = None,
                   frequency_overrides: Mapping[str, Frequency] | None = None,
                   extra_reps: int = 0,
                   last_visits: Mapping[str, dt.date] | None = None) -> CapacityReport:
    """Check whether the active customers of ``region`` fit in the reps' hours over ``weeks``
    weeks from ``start`` (see the module docstring for the method).

    ``absences``: rep id -> days the rep is away (those days give no hours). ``rep_ids``: check
    only these reps (as ``planner plan --reps``). ``last_visits``: each customer's last visit
    before ``start``, so that visit days continue the spacing as the engine's do.

    What-ifs (each reported with before and after figures): ``extra_reps=N`` adds N reps like
    the average rep, at the centre of the most overloaded territories (the most loaded if none
    is over); ``frequency_overrides`` (grade -> frequency, e.g. ``{"C": Frequency(1, 3)}``)
    changes those grades' default frequency (customers with a frequency of their own keep it).
    Both together also give the combined scenario.

    Raises ``ValueError`` for ``weeks`` < 1 or ``extra_reps`` < 0 and :class:`DomainError` for a
    grade that is not in the policy.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if extra_reps < 0:
        raise ValueError("extra reps must be 0 or more")
    absences = absences or {}
    changes: tuple[FrequencyChange, ...] = ()
    region_more = region_freq = None
    if frequency_overrides:  # checked first: an unknown grade is an error before any work
        changes, policy = _override_policy(region.policy, frequency_overrides)
        region_freq = dataclasses.replace(region, policy=policy)
    base, ctx = _scenario(region, start, weeks, travel, absences, rep_ids, last_visits)
    what_ifs: list[WhatIf] = []
    added: tuple[AddedRep, ...] = ()
    if extra_reps:
        added, new_reps = _extra_reps(region, base, ctx, extra_reps)
        region_more = dataclasses.replace(region, reps=(*region.reps, *new_reps))
    more_ids = None if rep_ids is None else [*rep_ids, *(a.rep_id for a in added)]
    if region_more is not None:
        sc, _ = _scenario(region_more, start, weeks, travel, absences, more_ids, last_visits)
        where = ", ".join(f"{a.rep_id} at the centre of {a.near_rep_id}'s territory" for a in added)
        what_ifs.append(WhatIf("extra_reps", f"{extra_reps} more rep(s) like the average rep: {where}",
                               added, (), base.summary, sc.summary, sc))
    if region_freq is not None:
        sc, _ = _scenario(region_freq, start, weeks, travel, absences, rep_ids, last_visits)
        what = ", ".join(f"grade {c.grade} {c.before} -> {c.after}" for c in changes)
        what_ifs.append(WhatIf("frequency", f"frequency {what}", (), changes, base.summary, sc.summary, sc))
    if region_more is not None and region_freq is not None:
        both = dataclasses.replace(region_more, policy=region_freq.policy)
        sc, _ = _scenario(both, start, weeks, travel, absences, more_ids, last_visits)
        what_ifs.append(WhatIf("combined", f"{what_ifs[0].description}; and {what_ifs[1].description}",
                               added, changes, base.summary, sc.summary, sc))
    return CapacityReport(start, weeks, base, tuple(what_ifs))


def parse_frequency_override(text: str) -> tuple[str, Frequency]:
    """Parse ``GRADE=FREQUENCY`` (``C=1/3weeks``) into the grade and its frequency."""
    m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*(.+?)\s*", text or "")
    if not m:
        raise DomainError(f"bad frequency change {text!r}, expected GRADE=FREQUENCY like C=1/3weeks")
    return m.group(1), Frequency.parse(m.group(2))


def day_tour(dur: np.ndarray, start: int, end: int, stops: Sequence[int]) -> list[int]:
    """An order of ``stops`` for a day from ``start`` to ``end``: nearest neighbour, then 2-opt
    (segment reversals priced on the matrix as it is, so asymmetric matrices are fine)."""
    remaining = list(stops)
    seq: list[int] = []
    cur = start
    while remaining:
        nxt = min(remaining, key=lambda c: (dur[cur, c], c))
        remaining.remove(nxt)
        seq.append(nxt)
        cur = nxt
    path = [start, *seq, end]
    improved = True
    while improved:
        improved = False
        for i in range(1, len(path) - 2):
            for j in range(i + 1, len(path) - 1):
                old = sum(float(dur[path[k], path[k + 1]]) for k in range(i - 1, j + 1))
                seg = path[i:j + 1][::-1]
                cand = [path[i - 1], *seg, path[j + 1]]
                new = sum(float(dur[a, b]) for a, b in zip(cand, cand[1:]))
                if new < old - 1e-6:
                    path[i:j + 1] = seg
                    improved = True
    return path[1:-1]


# ----------------------------------------------------------------------------------------------
# Internals
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    inst: PlanningInstance
    rep_of: np.ndarray


def _scenario(region: Region, start: dt.date, weeks: int, travel: TravelMatrix,
              absences: Mapping[str, Collection[dt.date]], rep_ids: Sequence[str] | None,
              last_visits: Mapping[str, dt.date] | None) -> tuple[Scenario, _Context]:
    wanted = None if rep_ids is None else set(rep_ids)
    reps = [r for r in region.reps if wanted is None or r.id in wanted]
    planned = {r.id for r in reps}
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    last = {k: v for k, v in (last_visits or {}).items() if v < start}
    inst = build_instance(region, start, weeks, mats.distance_km, mats.duration_s, customers, reps,
                          last_visits=last or None, absences=absences or None)
    missing = [i for i, c in enumerate(customers) if c.rep_id and c.rep_id not in planned]
    eligible, options, why_not = eligibility(inst, missing)
    n, m = inst.n, len(inst.reps)
    rep_of = np.full(n, -1, dtype=int)
    if m and any(eligible):
        visits = np.array([len(options[(c, eligible[c][0])][0].days) if eligible[c] else 0 for c in range(n)],
                          dtype=float)
        rep_of = assign_territories(inst, eligible, visits).rep_of
    pattern: dict[int, Pattern] = {}
    for r in range(m):
        mine = [c for c in range(n) if rep_of[c] == r]
        pattern.update(choose_patterns(inst, r, mine, {c: options[(c, r)] for c in mine}))

    grades = list(dict.fromkeys([*region.policy.grades, *sorted({c.grade for c in customers})]))
    # per (rep, week, grade): visits, visit seconds, travel seconds
    cell: dict[tuple[int, int, str], list[float]] = {}
    for r in range(m):
        rd = inst.reps[r]
        by_day: dict[int, list[int]] = {}
        for c in range(n):
            if rep_of[c] == r and c in pattern:
                for d in pattern[c].days:
                    by_day.setdefault(d, []).append(c)
        for d, stops in by_day.items():
            tour = day_tour(inst.dur_s, rd.day.start_loc, rd.day.end_loc, stops)
            shares = _travel_shares(inst.dur_s, rd.day.start_loc, rd.day.end_loc, tour)
            for c, share in zip(tour, shares):
                acc = cell.setdefault((r, d // 7, inst.customers[c].grade), [0, 0.0, 0.0])
                acc[0] += 1
                acc[1] += float(inst.service_s[c])
                acc[2] += share

    rep_weeks: list[RepWeekLoad] = []
    for r in range(m):
        rd = inst.reps[r]
        workdays = workday_offsets(start, 7 * weeks, rd.rep.workdays)
        for w in range(weeks):  # the instance's day offsets are the workdays the rep is there
            days = sum(1 for o in rd.day_offsets if o // 7 == w)
            absent = sum(1 for o in workdays if o // 7 == w) - days
            by_grade = [GradeHours(g, int(v[0]), v[1] / HOUR_S, v[2] / HOUR_S)
                        for g in grades if (v := cell.get((r, w, g))) is not None]
            by_grade.sort(key=lambda x: (-x.hours, x.grade))
            rep_weeks.append(RepWeekLoad(
                rep_id=rd.rep.id, week=w, week_start=start + dt.timedelta(days=7 * w), days=days,
                absent_days=absent, available_hours=days * rd.capacity_s / HOUR_S,
                visits=sum(x.visits for x in by_grade), visit_hours=sum(x.visit_hours for x in by_grade),
                travel_hours=sum(x.travel_hours for x in by_grade),
                max_visits=None if rd.day.max_visits is None else rd.day.max_visits * days,
                by_grade=tuple(by_grade)))

    week_totals = tuple(
        WeekTotal(w, start + dt.timedelta(days=7 * w),
                  available_hours=sum(x.available_hours for x in rep_weeks if x.week == w),
                  visits=sum(x.visits for x in rep_weeks if x.week == w),
                  visit_hours=sum(x.visit_hours for x in rep_weeks if x.week == w),
                  travel_hours=sum(x.travel_hours for x in rep_weeks if x.week == w))
        for w in range(weeks))

    unservable = tuple(
        Unservable(inst.customers[c].id, inst.customers[c].grade, code, reason,
                   visits=inst.frequencies[c].visits_per_week * weeks,
                   visit_hours=inst.frequencies[c].visits_per_week * weeks * float(inst.service_s[c]) / HOUR_S)
        for c, (code, reason) in sorted(why_not.items()))

    grade_loads = []
    for g in grades:
        members = [c for c in range(n) if inst.customers[c].grade == g]
        if not members:
            continue
        cells = [[cell.get((r, w, g), [0, 0.0, 0.0]) for r in range(m)] for w in range(weeks)]
        grade_loads.append(GradeLoad(
            grade=g, customers=sum(1 for c in members if rep_of[c] >= 0),
            unservable=sum(1 for c in members if c in why_not),
            visits_per_week=tuple(int(sum(v[0] for v in row)) for row in cells),
            visit_hours_per_week=tuple(sum(v[1] for v in row) / HOUR_S for row in cells),
            travel_hours_per_week=tuple(sum(v[2] for v in row) / HOUR_S for row in cells)))

    overloads: list[Overload] = []
    for x in rep_weeks:
        if x.required_hours > x.available_hours + EPS:
            overloads.append(Overload("hours", x.rep_id, x.week, x.week_start, x.available_hours, x.required_hours,
                                      x.over_hours, x.by_grade))
        if x.max_visits is not None and x.visits > x.max_visits:
            overloads.append(Overload("visits", x.rep_id, x.week, x.week_start, float(x.max_visits),
                                      float(x.visits), float(x.visits - x.max_visits), x.by_grade))
    overloads.sort(key=lambda o: (o.week, o.rep_id, o.kind))
    territory = MappingProxyType({inst.customers[c].id: inst.reps[int(rep_of[c])].rep.id
                                  for c in range(n) if rep_of[c] >= 0})
    scenario = Scenario(start, weeks, tuple(rd.rep.id for rd in inst.reps), tuple(rep_weeks), week_totals,
                        tuple(grade_loads), tuple(overloads), unservable, territory)
    return scenario, _Context(inst, rep_of)


def _travel_shares(dur: np.ndarray, start: int, end: int, tour: Sequence[int]) -> list[float]:
    """The day's driving (seconds) split over its stops in proportion to each stop's detour
    (the drive saved if it were skipped); equal shares when no stop makes a detour."""
    path = [start, *tour, end]
    total = float(sum(dur[a, b] for a, b in zip(path, path[1:])))
    detours = [max(0.0, float(dur[path[i - 1], path[i]] + dur[path[i], path[i + 1]] - dur[path[i - 1], path[i + 1]]))
               for i in range(1, len(path) - 1)]
    s = sum(detours)
    if not tour:
        return []
    if s <= EPS:
        return [total / len(tour)] * len(tour)
    return [total * d / s for d in detours]


def _override_policy(policy: VisitPolicy, overrides: Mapping[str, Frequency]
                     ) -> tuple[tuple[FrequencyChange, ...], VisitPolicy]:
    rules = dict(policy.rules)
    changes = []
    for grade, freq in overrides.items():
        if grade not in rules:
            raise DomainError(f"grade {grade!r} is not in the visit policy ({', '.join(policy.grades)})")
        changes.append(FrequencyChange(grade, rules[grade].frequency, freq))
        rules[grade] = GradeRule(freq, rules[grade].visit_minutes)
    return tuple(changes), VisitPolicy(MappingProxyType(rules))


def _mode(values: Sequence[Any]) -> Any:
    """The most common value; ties go to the one seen first."""
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def average_rep(reps: Sequence[Rep], rep_id: str, start: Location) -> Rep:
    """A rep like the average of ``reps``: mean working hours and costs, the most common
    workdays, lunch, visit cap and capacity; starting and ending at ``start``."""
    if not reps:
        raise ValueError("no reps to average")
    ws = round(sum(r.work_start for r in reps) / len(reps))
    we = round(sum(r.work_end for r in reps) / len(reps))
    lunch: LunchBreak | None = _mode([r.lunch for r in reps])
    return Rep(id=rep_id, name=f"what-if rep {rep_id}", start=start,
               work_start=ws, work_end=we, workdays=_mode([r.workdays for r in reps]),
               max_visits_per_day=_mode([r.max_visits_per_day for r in reps]),
               cost_per_km=sum(r.cost_per_km for r in reps) / len(reps),
               cost_per_hour=sum(r.cost_per_hour for r in reps) / len(reps),
               lunch=lunch, capacity=_mode([r.capacity for r in reps]))


def _extra_reps(region: Region, base: Scenario, ctx: _Context, n_extra: int) -> tuple[tuple[AddedRep, ...], list[Rep]]:
    inst = ctx.inst
    if not inst.reps:
        raise ValueError("no reps to model the extra reps on")
    over = base.rep_over_hours()
    visits_over = {r: sum(o.over for o in base.overloads if o.kind == "visits" and o.rep_id == r)
                   for r in base.rep_ids}
    horizon_load = {}
    for rid in base.rep_ids:
        avail = sum(w.available_hours for w in base.rep_weeks if w.rep_id == rid)
        req = sum(w.required_hours for w in base.rep_weeks if w.rep_id == rid)
        horizon_load[rid] = req / avail if avail > EPS else float("inf") if req > EPS else 0.0
    # the most overloaded first (hours over, then visits over the caps); none over: the most loaded
    ranked = sorted(base.rep_ids, key=lambda r: (-over[r], -visits_over[r], -horizon_load[r], r))
    overloaded = [r for r in ranked if over[r] > EPS or visits_over[r] > 0]
    ranked = overloaded or ranked
    taken = {r.id for r in region.reps}
    added: list[AddedRep] = []
    new: list[Rep] = []
    k = 0
    model = [rd.rep for rd in inst.reps]
    for i in range(n_extra):
        near = ranked[i % len(ranked)]
        r = base.rep_ids.index(near)
        members = np.flatnonzero(ctx.rep_of == r)
        if len(members):
            sub = inst.dur_s[np.ix_(members, members)]
            loc = inst.customers[int(members[int(np.argmin(sub.sum(axis=1)))])].location
        else:
            loc = inst.reps[r].rep.start
        k += 1
        while f"{EXTRA_REP_PREFIX}{k}" in taken:
            k += 1
        rid = f"{EXTRA_REP_PREFIX}{k}"
        taken.add(rid)
        new.append(average_rep(model, rid, loc))
        added.append(AddedRep(rid, near, loc.lat, loc.lon))
    return tuple(added), new


# ----------------------------------------------------------------------------------------------
# Serialisation
# ----------------------------------------------------------------------------------------------
def _h(x: float | None) -> float | None:
    return None if x is None else round(float(x), 2)


def _grade_hours_dict(g: GradeHours) -> dict[str, Any]:
    return {"grade": g.grade, "visits": g.visits, "visit_hours": _h(g.visit_hours),
            "travel_hours": _h(g.travel_hours), "hours": _h(g.hours)}


def _summary_dict(s: Summary) -> dict[str, Any]:
    return {"available_hours": _h(s.available_hours), "visit_hours": _h(s.visit_hours),
            "travel_hours": _h(s.travel_hours), "required_hours": _h(s.required_hours),
            "over_hours": _h(s.over_hours), "visits_over_caps": s.visits_over_caps,
            "overloaded_rep_weeks": s.overloaded_rep_weeks,
            "region_over_hours": _h(s.region_over_hours), "max_load": _h(s.max_load), "unservable": s.unservable}


def _scenario_dict(s: Scenario) -> dict[str, Any]:
    return {
        "reps": list(s.rep_ids),
        "rep_weeks": [{"rep_id": w.rep_id, "week": w.week + 1, "week_start": w.week_start.isoformat(), "days": w.days,
                       "absent_days": w.absent_days, "available_hours": _h(w.available_hours), "visits": w.visits,
                       "visit_hours": _h(w.visit_hours), "travel_hours": _h(w.travel_hours),
                       "required_hours": _h(w.required_hours), "load": _h(w.load), "over_hours": _h(w.over_hours),
                       "max_visits": w.max_visits, "by_grade": [_grade_hours_dict(g) for g in w.by_grade]}
                      for w in s.rep_weeks],
        "weeks_total": [{"week": t.week + 1, "week_start": t.week_start.isoformat(),
                         "available_hours": _h(t.available_hours), "visits": t.visits,
                         "visit_hours": _h(t.visit_hours), "travel_hours": _h(t.travel_hours),
                         "required_hours": _h(t.required_hours), "load": _h(t.load), "over_hours": _h(t.over_hours)}
                        for t in s.week_totals],
        "grades": [{"grade": g.grade, "customers": g.customers, "unservable": g.unservable,
                    "visits_per_week": list(g.visits_per_week),
                    "visit_hours_per_week": [_h(x) for x in g.visit_hours_per_week],
                    "travel_hours_per_week": [_h(x) for x in g.travel_hours_per_week],
                    "visits": g.visits, "visit_hours": _h(g.visit_hours), "travel_hours": _h(g.travel_hours),
                    "hours": _h(g.hours)} for g in s.grades],
        "overloads": [{"kind": o.kind, "rep_id": o.rep_id, "week": o.week + 1, "week_start": o.week_start.isoformat(),
                       "available": _h(o.available), "required": _h(o.required), "over": _h(o.over),
                       "main_grade": o.main_grade, "by_grade": [_grade_hours_dict(g) for g in o.by_grade],
                       "message": o.message()} for o in s.overloads],
        "unservable": [{"customer_id": u.customer_id, "grade": u.grade, "code": u.code, "reason": u.reason,
                        "visits": _h(u.visits), "visit_hours": _h(u.visit_hours)} for u in s.unservable],
        "summary": _summary_dict(s.summary),
        "findings": list(s.findings()),
    }


def _what_if_dict(w: WhatIf, base: Scenario) -> dict[str, Any]:
    return {"kind": w.kind, "description": w.description,
            "added_reps": [{"rep_id": a.rep_id, "near_rep_id": a.near_rep_id, "lat": a.lat, "lon": a.lon}
                           for a in w.added_reps],
            "frequency_changes": [{"grade": c.grade, "before": str(c.before), "after": str(c.after)}
                                  for c in w.frequency_changes],
            "before": _summary_dict(w.before), "after": _summary_dict(w.after),
            "rep_over_hours": [{"rep_id": r, "before": _h(a), "after": _h(b)}
                               for r, (a, b) in w.rep_over_hours(base).items()],
            "scenario": _scenario_dict(w.scenario)}
