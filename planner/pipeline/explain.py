"""Why a plan is what it is: per customer, why this rep and these days (the alternatives priced
against the plan's own routes), and why any visit is unplanned.

The plan's routes are rebuilt in the engine's index-based form; each alternative (rep, visit-day
pattern) of the customer is priced by taking the customer out of its days and inserting it
exactly (timeline, windows, lunch, capacity) on the alternative's days. An alternative whose
day cannot take the visit is reported as such.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Collection, Mapping

from planner.domain import Plan, Region
from planner.geo.travel import HaversineTravel, TravelMatrix
from planner.pipeline.engine import Engine
from planner.scheduling.instance import build_instance, instance_locations
from planner.scheduling.patterns import Pattern
from planner.solver.ortools_engine import OrToolsEngine


class ExplainError(LookupError):
    """The customer is unknown."""


@dataclass(frozen=True)
class Alternative:
    """One (rep, visit days) option and what it would cost more than the plan's choice
    (``extra_cost`` None: some day of it cannot take the visit)."""

    rep_id: str | None
    dates: tuple[dt.date, ...]
    extra_cost: float | None
    current: bool = False

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"rep_id": self.rep_id, "dates": [d.isoformat() for d in self.dates],
                "extra_cost": self.extra_cost, "current": self.current}


@dataclass(frozen=True)
class CustomerExplanation:
    """Why a customer is planned as it is."""

    customer_id: str
    name: str
    grade: str
    frequency: str
    visit_minutes: int
    status: str  # planned, partly_planned, unplanned, not_due, inactive
    rep_id: str | None
    dates: tuple[dt.date, ...]
    why_rep: str
    why_days: str
    unplanned: tuple[dict, ...] = ()
    alternatives: tuple[Alternative, ...] = ()

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"customer_id": self.customer_id, "name": self.name, "grade": self.grade,
                "frequency": self.frequency, "visit_minutes": self.visit_minutes, "status": self.status,
                "rep_id": self.rep_id, "dates": [d.isoformat() for d in self.dates], "why_rep": self.why_rep,
                "why_days": self.why_days, "unplanned": list(self.unplanned),
                "alternatives": [a.as_dict() for a in self.alternatives]}


@dataclass(frozen=True)
class PlanExplanation:
    """Plan-wide: unplanned visits by reason, and per rep its customers, visits and hours."""

    plan_id: str
    unplanned_by_code: Mapping[str, int]
    unplanned: tuple[dict, ...]
    reps: tuple[dict, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {"plan_id": self.plan_id, "unplanned_by_code": dict(self.unplanned_by_code),
                "unplanned": list(self.unplanned), "reps": list(self.reps)}


def explain_plan(region: Region, plan: Plan) -> PlanExplanation:
    """Every unplanned visit with its machine-readable code and reason, counted by code, and each
    rep's customers, visits and working hours."""
    unplanned = tuple({"customer_id": u.customer_id, "date": u.date.isoformat() if u.date else None,
                       "code": u.code, "reason": u.reason} for u in plan.unassigned)
    reps = []
    for rep in region.reps:
        mine = [r for r in plan.routes if r.rep_id == rep.id]
        reps.append({"rep_id": rep.id, "customers": sum(1 for v in plan.assignment.values() if v == rep.id),
                     "visits": sum(len(r.stops) for r in mine), "days": len(mine),
                     "hours": round(sum(r.duration_minutes for r in mine) / 60, 1),
                     "km": round(sum(r.distance_km for r in mine), 1)})
    return PlanExplanation(plan.plan_id, dict(Counter(u.code for u in plan.unassigned)), unplanned, tuple(reps))


def explain_customer(region: Region, plan: Plan, customer_id: str, *, travel: TravelMatrix | None = None,
                     absences: Mapping[str, Collection[dt.date]] | None = None,
                     max_alternatives: int = 8) -> CustomerExplanation:
    """Why ``customer_id`` has its rep and days in ``plan`` and what the alternatives would cost."""
    try:
        cust = region.customer(customer_id)
    except KeyError:
        raise ExplainError(f"no customer {customer_id!r}") from None
    freq = str(region.policy.frequency_of(cust)) if cust.allowed_days is None else "explicit patterns"
    minutes = region.policy.visit_minutes_of(cust)
    mine = sorted((r.date, r.rep_id) for r in plan.routes for s in r.stops if s.customer_id == customer_id)
    dates = tuple(d for d, _ in mine)
    missing = tuple({"date": u.date.isoformat() if u.date else None, "code": u.code, "reason": u.reason}
                    for u in plan.unassigned if u.customer_id == customer_id)
    rep_id = plan.assignment.get(customer_id) or (mine[0][1] if mine else None)
    if not cust.active:
        return CustomerExplanation(cust.id, cust.name, cust.grade, freq, minutes, "inactive", rep_id, dates,
                                   "inactive customers are not planned", "", missing)
    status = "unplanned" if not dates else ("partly_planned" if missing else "planned")
    if not dates and not missing:
        return CustomerExplanation(cust.id, cust.name, cust.grade, freq, minutes, "not_due", rep_id, dates,
                                   f"rep {rep_id} owns the account" if rep_id else "",
                                   f"no visit is due in this plan's horizon ({plan.start}..{plan.end}) at "
                                   f"frequency {freq}, given its spacing", missing)
    travel = travel or HaversineTravel()
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    reps = list(region.reps)
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    first = (plan.frozen_before - plan.start).days if plan.frozen_before else 0
    history: dict[str, list[int]] = {}
    for r in plan.routes:
        if r.date < plan.start + dt.timedelta(days=first):
            for s in r.stops:
                history.setdefault(s.customer_id, []).append((r.date - plan.start).days)
    inst = build_instance(region, plan.start, plan.weeks, mats.distance_km, mats.duration_s, customers, reps,
                          absences=absences, first_day=first, history=history)
    cidx = {c.id: i for i, c in enumerate(customers)}
    ridx = {r.id: i for i, r in enumerate(reps)}
    c = cidx[customer_id]
    rep_of: dict[int, int] = {}
    pattern: dict[int, Pattern] = {}
    sequences: dict[tuple[int, int], list[int]] = {}
    visits: dict[int, list[int]] = {}
    for r in plan.routes:
        d = (r.date - plan.start).days
        if d < first or r.rep_id not in ridx:
            continue
        seq = [cidx[s.customer_id] for s in r.stops if s.customer_id in cidx]
        sequences[(ridx[r.rep_id], d)] = seq
        for x in seq:
            visits.setdefault(x, []).append(d)
            rep_of.setdefault(x, ridx[r.rep_id])
    for x, days in visits.items():
        pattern[x] = Pattern(tuple(sorted(days)))
    eng = Engine(inst, OrToolsEngine(), time_limit=5.0)
    state = eng.state_of(rep_of if inst.ownership else {}, pattern, sequences)
    if c in pattern and c in rep_of:  # the plan's own choice is an option even if no generator makes it
        key = (c, rep_of[c])
        if key in state.options and pattern[c].days not in {p.days for p in state.options[key]}:
            state.options[key] = [pattern[c], *state.options[key]]
    alts = state.price_alternatives(c) if (c in pattern or state.eligible[c]) else []
    cur_cost = None
    out = []
    for r, p, extra in alts:
        rid = reps[r].id if r is not None else None
        current = c in pattern and p.days == pattern[c].days and (r is None or r == rep_of.get(c))
        if current:
            cur_cost = extra
        out.append(Alternative(rid, tuple(inst.date(d) for d in p.days), None if extra is None else round(extra, 2),
                               current))
    base = cur_cost or 0.0
    out = [Alternative(a.rep_id, a.dates, None if a.extra_cost is None else round(a.extra_cost - base, 2), a.current)
           for a in out]
    shown = [a for a in out if a.current] + [a for a in out if not a.current][:max_alternatives]
    return CustomerExplanation(cust.id, cust.name, cust.grade, freq, minutes, status, rep_id, dates,
                               _why_rep(cust, rep_id, region, inst, c, ridx, plan),
                               _why_days(shown, dates), missing, tuple(shown))


def _why_rep(cust, rep_id, region: Region, inst, c: int, ridx, plan: Plan) -> str:
    if rep_id is None:
        return "no rep: see the unplanned reasons"
    if cust.rep_id:
        return f"pinned to rep {cust.rep_id} (the customer's own account owner)"
    if not region.ownership:
        return "shared fleet: any vehicle may make any visit; the cheapest routes decided"
    homes = sorted(((inst.dist_km[c, inst.start_loc(r)], rep.id) for rep, r in
                    ((rep, ridx[rep.id]) for rep in region.reps)), key=lambda t: t[0])
    listing = ", ".join(f"{rid} {km:.1f} km" for km, rid in homes[:4])
    owned = sum(1 for v in plan.assignment.values() if v == rep_id)
    return (f"territory of rep {rep_id} ({owned} customers): territories balance each rep's work and stay "
            f"compact around where the work is; distances from the reps' homes: {listing}")


def _why_days(alts: list[Alternative], dates) -> str:
    if not dates:
        return "not planned"
    feasible = [a for a in alts if not a.current and a.extra_cost is not None]
    blocked = sum(1 for a in alts if not a.current and a.extra_cost is None)
    if not feasible:
        return f"the only option that fits the routes ({blocked} other(s) cannot take the visit)"
    best = min(feasible, key=lambda a: a.extra_cost)
    days = "+".join(d.strftime("%a %d") for d in best.dates[:4])
    if best.extra_cost >= 0:
        return (f"the cheapest of {len(feasible) + 1} options that fit; next best ({best.rep_id}, {days}…) costs "
                f"{best.extra_cost:.2f} more" + (f"; {blocked} other(s) do not fit" if blocked else ""))
    return (f"kept where it is: moving it ({best.rep_id}, {days}…) would save {-best.extra_cost:.2f} but "
            "balanced days, its preference or stability against the previous plan weigh more")


__all__ = ["Alternative", "CustomerExplanation", "ExplainError", "PlanExplanation", "explain_customer",
           "explain_plan"]
