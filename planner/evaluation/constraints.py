"""Each rule a plan must keep, as its own named check. Every check returns a list of violations.

The checks read only the domain objects (region, plan) and travel matrices: they share no code
with the engine, so a solver bug shows up here. Times are compared with a one-second tolerance.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Collection, Mapping, Sequence

from planner.domain import REASON_LOCK_INFEASIBLE, Customer, Lock, Plan, Region, Rep, Route

TOL = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Violation:
    """A broken rule: which rule, about what (customer, rep, date), and a message."""

    rule: str
    message: str
    customer_id: str | None = None
    rep_id: str | None = None
    date: dt.date | None = None

    def __str__(self) -> str:
        where = " ".join(x for x in (self.rep_id, self.date.isoformat() if self.date else None,
                                     self.customer_id) if x)
        return f"[{self.rule}] {where}: {self.message}"


@dataclass(frozen=True)
class Context:
    """What the checks need: lookups and travel between stops."""

    region: Region
    plan: Plan
    customers: dict[str, Customer]
    reps: dict[str, Rep]
    travel_s: Callable[[object, object], float]
    frozen_before: dt.date | None = None  # a re-plan: routes before this date were copied, not planned
    previous: Plan | None = None          # the plan it re-planned
    absences: Mapping[str, Collection[dt.date]] | None = None
    locks: Sequence[Lock] = ()
    missed: Collection[tuple[str, dt.date]] = ()  # visits of the copied past recorded as missed (owed)

    def made_visits(self) -> dict[str, list[tuple[dt.date, str]]]:
        """:func:`visits_by_customer` without the copied past's visits recorded as missed."""
        out = visits_by_customer(self.plan)
        if self.missed:
            gone = set(self.missed)
            out = {c: [(d, r) for d, r in vs if (c, d) not in gone or self.is_live(d)] for c, vs in out.items()}
        return out

    @property
    def live_routes(self) -> tuple[Route, ...]:
        """The routes this plan made (a re-plan's copied past excluded): checked rule by rule."""
        if self.frozen_before is None:
            return self.plan.routes
        return tuple(r for r in self.plan.routes if r.date >= self.frozen_before)

    def is_live(self, day: dt.date) -> bool:
        """True if ``day`` was planned by this plan (not copied from the previous one)."""
        return self.frozen_before is None or day >= self.frozen_before


Check = Callable[[Context], list[Violation]]


def _at(day: dt.date, minutes: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)


def visits_by_customer(plan: Plan) -> dict[str, list[tuple[dt.date, str]]]:
    """Dates and reps of each customer's planned visits."""
    out: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
    for r in plan.routes:
        for s in r.stops:
            out[s.customer_id].append((r.date, r.rep_id))
    return out


def check_known_ids(ctx: Context) -> list[Violation]:
    """Every route names a known rep, every stop and unplanned entry a known customer."""
    out = []
    for r in ctx.plan.routes:
        if r.rep_id not in ctx.reps and ctx.is_live(r.date):  # a re-plan's copied past may name a rep gone since
            out.append(Violation("known_ids", "unknown rep", rep_id=r.rep_id, date=r.date))
        for s in r.stops:
            if s.customer_id not in ctx.customers:
                out.append(Violation("known_ids", "unknown customer", s.customer_id, r.rep_id, r.date))
    for u in ctx.plan.unassigned:
        if u.customer_id not in ctx.customers:
            out.append(Violation("known_ids", "unplanned entry for an unknown customer", u.customer_id))
    return out


def check_frequency(ctx: Context) -> list[Violation]:
    """Each active customer gets its visits in every block of its period (or each missing visit
    is listed as unplanned with a reason); never more; inactive customers get none."""
    out = []
    plan = ctx.plan
    visits = ctx.made_visits()
    unplanned = defaultdict(list)
    for u in plan.unassigned:
        unplanned[u.customer_id].append(u.date)
    horizon = 7 * plan.weeks
    for cid, c in ctx.customers.items():
        days = sorted(d for d, _ in visits.get(cid, []))
        if not c.active:
            live = [d for d in days if ctx.is_live(d)]
            if live:
                out.append(Violation("inactive", f"inactive customer planned on {live[0]}", cid))
            continue
        if c.allowed_days is not None:
            offs = {(d - plan.start).days for d in days}
            owed = len(unplanned.get(cid, []))
            if not any(offs <= set(p) and len(offs) + owed >= len(p) for p in c.allowed_days) or \
                    (not owed and not any(offs == set(p) for p in c.allowed_days)):
                out.append(Violation("frequency", f"visit days {sorted(offs)} match no allowed pattern", cid))
            continue
        f = ctx.region.policy.frequency_of(c)
        period = f.period_days
        for b in range(0, horizon, period):
            lo, hi = plan.start + dt.timedelta(days=b), plan.start + dt.timedelta(days=b + period)
            k = sum(lo <= d < hi for d in days)
            k_live = sum(lo <= d < hi and ctx.is_live(d) for d in days)
            owed = sum(1 for d in unplanned.get(cid, []) if d is None or lo <= d < hi)
            full = b + period <= horizon
            if not ctx.is_live(hi - dt.timedelta(days=1)):
                continue  # a block wholly in a re-plan's copied past
            if k > f.visits and k_live > max(0, f.visits - (k - k_live)):
                out.append(Violation("frequency", f"{k} visits in {lo}..{hi - dt.timedelta(days=1)}, "
                                                  f"frequency {f}", cid))
            elif full and k + owed < f.visits:
                out.append(Violation("frequency", f"{k} visits in {lo}..{hi - dt.timedelta(days=1)}, needs "
                                                  f"{f.visits} ({f}); missing visits not reported", cid))
    return out


def check_spacing(ctx: Context) -> list[Violation]:
    """Visits are spread: N/week never on consecutive days (nor twice a day); 1/M-weeks at least
    5·M days apart (10 days for fortnightly, the outside reviewer's rule)."""
    out = []
    for cid, vs in ctx.made_visits().items():
        c = ctx.customers.get(cid)
        if c is None:
            continue
        days = sorted(d for d, _ in vs)
        if c.allowed_days is not None:  # explicit patterns define the spacing
            if len(days) != len(set(days)):
                out.append(Violation("spacing", "visited twice on one day", cid))
            continue
        f = ctx.region.policy.frequency_of(c)
        gaps = [(b - a).days for a, b in zip(days, days[1:]) if ctx.is_live(b)]
        if any(g == 0 for g in gaps):
            out.append(Violation("spacing", "visited twice on one day", cid))
        elif f.weeks == 1 and f.visits >= 2 and any(g < 2 for g in gaps):
            out.append(Violation("spacing", f"{f} visits on consecutive days", cid))
        elif f.weeks >= 2 and any(g < 5 * f.weeks for g in gaps):
            out.append(Violation("spacing", f"visits {gaps} days apart, frequency {f}", cid))
    return out


def check_ownership(ctx: Context) -> list[Violation]:
    """One rep per customer over the horizon, and the pinned rep when there is one. A re-plan
    may hand a customer to another rep from its re-plan date only when the facts require it:
    the customer is now pinned to that rep, a fixed appointment names it, or the earlier rep
    left the region."""
    out = []
    locked = {(lk.customer_id, lk.rep_id) for lk in ctx.locks if lk.rep_id}
    for cid, vs in visits_by_customer(ctx.plan).items():
        reps = {r for d, r in vs if ctx.is_live(d)}
        past = {r for d, r in vs if not ctx.is_live(d)}
        c = ctx.customers.get(cid)
        if len(reps) > 1 and ctx.region.ownership:
            out.append(Violation("ownership", f"seen by several reps {sorted(reps)}", cid))
        elif reps and past - reps and ctx.region.ownership:
            (new,) = reps
            handed = (c is not None and c.rep_id == new) or (cid, new) in locked or not (past & set(ctx.reps))
            if not handed:
                out.append(Violation("ownership", f"seen by {sorted(past)} before the re-plan date and by {new} "
                                                  "after, with no pin, appointment or departure requiring it", cid))
        c = ctx.customers.get(cid)
        if c is not None and c.rep_id and reps - {c.rep_id}:
            out.append(Violation("pin", f"pinned to {c.rep_id}, planned with {sorted(reps)}", cid))
    return out


def check_days(ctx: Context) -> list[Violation]:
    """Routes lie in the horizon, on the rep's workdays, one route per rep and day."""
    out = []
    seen = set()
    for r in ctx.plan.routes:
        rep = ctx.reps.get(r.rep_id)
        if (r.rep_id, r.date) in seen:
            out.append(Violation("one_route_a_day", "two routes on one day", rep_id=r.rep_id, date=r.date))
        seen.add((r.rep_id, r.date))
        if not ctx.plan.start <= r.date <= ctx.plan.end:
            out.append(Violation("horizon", "route outside the plan's horizon", rep_id=r.rep_id, date=r.date))
        if rep is not None and not rep.works_on(r.date) and ctx.is_live(r.date):
            out.append(Violation("workday", "not a workday of the rep", rep_id=r.rep_id, date=r.date))
    return out


def check_visit_cap(ctx: Context) -> list[Violation]:
    """No more visits in a day than the rep's cap."""
    out = []
    for r in ctx.live_routes:
        rep = ctx.reps.get(r.rep_id)
        if rep and rep.max_visits_per_day is not None and len(r.stops) > rep.max_visits_per_day:
            out.append(Violation("visit_cap", f"{len(r.stops)} visits, cap {rep.max_visits_per_day}",
                                 rep_id=r.rep_id, date=r.date))
    return out


def check_capacity(ctx: Context) -> list[Violation]:
    """The demand of a route's visits fits the rep's capacity."""
    out = []
    for r in ctx.live_routes:
        rep = ctx.reps.get(r.rep_id)
        if rep is None or rep.capacity is None:
            continue
        load = sum(ctx.customers[s.customer_id].demand for s in r.stops if s.customer_id in ctx.customers)
        if load > rep.capacity:
            out.append(Violation("capacity", f"load {load} over capacity {rep.capacity}", rep_id=r.rep_id, date=r.date))
    return out


def check_visit_times(ctx: Context) -> list[Violation]:
    """Each visit lasts its length, starts after arrival, fits one opening window and the working day."""
    out = []
    for r in ctx.live_routes:
        rep = ctx.reps.get(r.rep_id)
        if rep is None:
            continue
        ws, we = _at(r.date, rep.work_start), _at(r.date, rep.work_end)
        for s in r.stops:
            c = ctx.customers.get(s.customer_id)
            if c is None:
                continue
            minutes = ctx.region.policy.visit_minutes_of(c)
            if s.end - s.start + TOL < dt.timedelta(minutes=minutes):
                out.append(Violation("visit_length", f"visit shorter than {minutes} min", c.id, r.rep_id, r.date))
            if s.start + TOL < s.arrival:
                out.append(Violation("arrival", "visit starts before the rep arrives", c.id, r.rep_id, r.date))
            if s.start + TOL < ws or s.end > we + TOL:
                out.append(Violation("working_hours", f"visit {s.start.time()}-{s.end.time()} outside working "
                                                      "hours", c.id, r.rep_id, r.date))
            if c.opening and not any(_at(r.date, w.start) <= s.start + TOL and s.end <= _at(r.date, w.end) + TOL
                                     for w in c.opening):
                out.append(Violation("opening_hours", f"visit {s.start.time()}-{s.end.time()} outside opening "
                                                      "hours", c.id, r.rep_id, r.date))
    return out


def _lunch_minutes(rep: Rep) -> int:
    return rep.lunch.minutes if rep.lunch_applies() else 0


def check_travel_and_day(ctx: Context) -> list[Violation]:
    """Leaving after work starts, enough time to drive every leg (plus lunch where it is taken),
    stops in time order, back at the end location by the end of the working day."""
    out = []
    for r in ctx.live_routes:
        rep = ctx.reps.get(r.rep_id)
        if rep is None or not r.stops:
            continue
        lunch = dt.timedelta(minutes=_lunch_minutes(rep))
        if r.depart + TOL < _at(r.date, rep.work_start):
            out.append(Violation("working_hours", "leaves before work starts", rep_id=r.rep_id, date=r.date))
        if r.back > _at(r.date, rep.work_end) + TOL:
            out.append(Violation("working_hours", f"back at {r.back.time()}, after {rep.work_end // 60:02d}:"
                                                  f"{rep.work_end % 60:02d}", rep_id=r.rep_id, date=r.date))
        points = [rep.start] + [ctx.customers[s.customer_id].location for s in r.stops
                                if s.customer_id in ctx.customers] + [rep.end_location]
        if len(points) != len(r.stops) + 2:
            continue
        ends = [r.depart] + [s.end for s in r.stops]
        nexts = [(s.arrival, s.start) for s in r.stops] + [(r.back, r.back)]
        for i, (prev_end, (arrive, begin)) in enumerate(zip(ends, nexts)):
            need = dt.timedelta(seconds=ctx.travel_s(points[i], points[i + 1]))
            in_gap = r.lunch_start is not None and prev_end - TOL <= r.lunch_start and \
                r.lunch_start + lunch <= begin + TOL
            extra = lunch if in_gap else dt.timedelta(0)
            if begin + TOL < prev_end + need + extra:
                who = r.stops[i].customer_id if i < len(r.stops) else "end"
                out.append(Violation("travel_time", f"{who} reached {begin.time()}, needs until "
                                                    f"{(prev_end + need + extra).time()}",
                                     who if who != "end" else None, r.rep_id, r.date))
    return out


def check_lunch(ctx: Context) -> list[Violation]:
    """A working day with visits has its lunch break inside the lunch window, between visits."""
    out = []
    for r in ctx.live_routes:
        rep = ctx.reps.get(r.rep_id)
        if rep is None or not r.stops or not _lunch_minutes(rep):
            continue
        if r.lunch_start is None:
            out.append(Violation("lunch", "no lunch break", rep_id=r.rep_id, date=r.date))
            continue
        l0 = r.lunch_start
        l1 = l0 + dt.timedelta(minutes=rep.lunch.minutes)
        if l0 + TOL < _at(r.date, rep.lunch.earliest) or l1 > _at(r.date, rep.lunch.latest) + TOL:
            out.append(Violation("lunch", f"lunch {l0.time()}-{l1.time()} outside its window",
                                 rep_id=r.rep_id, date=r.date))
        for s in r.stops:
            if l0 + TOL < s.end and s.start + TOL < l1:
                out.append(Violation("lunch", f"lunch overlaps the visit {s.start.time()}-{s.end.time()}",
                                     s.customer_id, r.rep_id, r.date))
    return out


def check_unplanned_reasons(ctx: Context) -> list[Violation]:
    """Every unplanned visit carries a machine-readable code and a reason."""
    return [Violation("unplanned_reason", "unplanned visit without a reason", u.customer_id)
            for u in ctx.plan.unassigned if not (u.reason and u.code)]


def check_absences(ctx: Context) -> list[Violation]:
    """No visits on a day the rep is away."""
    out = []
    for r in ctx.live_routes:
        if r.stops and r.date in (ctx.absences or {}).get(r.rep_id, ()):
            out.append(Violation("absence", f"{len(r.stops)} visit(s) on a day the rep is away",
                                 rep_id=r.rep_id, date=r.date))
    return out


def check_locks(ctx: Context) -> list[Violation]:
    """Each fixed appointment is kept (that day, that rep, starting at its time or in its window),
    or listed unplanned with the code ``lock_infeasible`` and a reason."""
    out = []
    by_day = {(s.customer_id, r.date): (r, s) for r in ctx.plan.routes for s in r.stops}
    excused = {(u.customer_id, u.date) for u in ctx.plan.unassigned if u.code == REASON_LOCK_INFEASIBLE}
    for lk in ctx.locks:
        if not ctx.is_live(lk.date):
            continue
        hit = by_day.get((lk.customer_id, lk.date))
        if hit is None:
            if (lk.customer_id, lk.date) not in excused:
                out.append(Violation("lock", f"fixed appointment {lk.describe()} not kept and not reported",
                                     lk.customer_id, lk.rep_id, lk.date))
            continue
        route, stop = hit
        if lk.rep_id and route.rep_id != lk.rep_id:
            out.append(Violation("lock", f"fixed appointment {lk.describe()} made by {route.rep_id}",
                                 lk.customer_id, route.rep_id, lk.date))
        win = lk.start_window
        if win is not None and not (_at(lk.date, win[0]) - TOL <= stop.start <= _at(lk.date, win[1]) + TOL):
            out.append(Violation("lock", f"fixed appointment {lk.describe()} starts at {stop.start.time()}",
                                 lk.customer_id, route.rep_id, lk.date))
    return out


def check_frozen(ctx: Context) -> list[Violation]:
    """A re-plan leaves the days before its re-plan date as they were (customers deleted since
    taken out), and adds nothing there."""
    if ctx.previous is None or ctx.frozen_before is None:
        return []
    out = []
    def key(r: Route) -> tuple:
        return tuple((s.customer_id, s.start, s.end) for s in r.stops if s.customer_id in ctx.customers)
    old = {(r.rep_id, r.date): key(r) for r in ctx.previous.routes if r.date < ctx.frozen_before}
    new = {(r.rep_id, r.date): key(r) for r in ctx.plan.routes if r.date < ctx.frozen_before}
    for k in sorted(set(old) | set(new)):
        if old.get(k, ()) != new.get(k, ()):
            out.append(Violation("frozen", "a day before the re-plan date was changed", rep_id=k[0], date=k[1]))
    return out


ALL_CHECKS: tuple[Check, ...] = (
    check_known_ids, check_frequency, check_spacing, check_ownership, check_days, check_visit_cap, check_capacity,
    check_visit_times, check_travel_and_day, check_lunch, check_unplanned_reasons, check_absences, check_locks,
    check_frozen,
)
