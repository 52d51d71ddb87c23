"""The independent evaluator: runs every constraint check and recomputes the plan's figures.

It knows nothing of the engine. Given the region, the plan and a travel provider, it reports
violations (an empty list means the plan keeps every rule) and KPIs recomputed from the
coordinates (km, drive and work hours, cost per route, rep and total; frequency compliance).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Collection, Mapping, Sequence

from planner.domain import Location, Lock, Plan, Region
from planner.evaluation.constraints import ALL_CHECKS, Context, Violation
from planner.evaluation.kpis import plan_kpis, rep_kpis
from planner.geo.travel import TravelMatrix


@dataclass(frozen=True)
class Evaluation:
    """Violations, KPIs and recomputed distances of a plan."""

    violations: tuple[Violation, ...]
    kpis: dict
    reps: dict = field(default_factory=dict)
    recomputed_km: float = 0.0

    @property
    def ok(self) -> bool:
        """True if the plan breaks no rule."""
        return not self.violations


def evaluate(region: Region, plan: Plan, travel: TravelMatrix, *, frozen_before: dt.date | None = None,
             previous: Plan | None = None, absences: Mapping[str, Collection[dt.date]] | None = None,
             locks: Sequence[Lock] = (), missed: Collection[tuple[str, dt.date]] = ()) -> Evaluation:
    """Check ``plan`` against ``region`` with travel times from ``travel``.

    A re-plan passes ``frozen_before`` (days before it were copied from ``previous``: they are
    checked to be unchanged, and count for frequency and spacing, but their routes are not
    re-checked against facts that changed since), and the ``absences`` and ``locks`` it had
    to respect, and the copied visits recorded as ``missed`` since (they do not count as made)."""
    frozen_before = frozen_before or plan.frozen_before
    customers = {c.id: c for c in region.customers}
    reps = {r.id: r for r in region.reps}
    points: dict[Location, int] = {}
    for c in customers.values():
        points.setdefault(c.location, len(points))
    for r in reps.values():
        points.setdefault(r.start, len(points))
        points.setdefault(r.end_location, len(points))
    used = sorted({points[p] for p in _route_points(plan, customers, reps)})
    order = [p for p, _ in sorted(points.items(), key=lambda kv: kv[1])]
    sub = {i: k for k, i in enumerate(used)}
    mats = travel.get_matrix([order[i] for i in used])

    def travel_s(a: Location, b: Location) -> float:
        return float(mats.duration_s[sub[points[a]], sub[points[b]]])

    def travel_km(a: Location, b: Location) -> float:
        return float(mats.distance_km[sub[points[a]], sub[points[b]]])

    ctx = Context(region, plan, customers, reps, travel_s, frozen_before, previous, absences, tuple(locks),
                  frozenset(missed))
    violations: list[Violation] = []
    for check in ALL_CHECKS:
        violations.extend(check(ctx))
    km = 0.0
    for r in plan.routes:
        rep = reps.get(r.rep_id)
        if rep is None or not r.stops or any(s.customer_id not in customers for s in r.stops):
            continue
        if frozen_before is not None and r.date < frozen_before:
            km += r.distance_km  # copied from the previous plan, as it was driven
            continue
        pts = [rep.start] + [customers[s.customer_id].location for s in r.stops] + [rep.end_location]
        rkm = sum(travel_km(a, b) for a, b in zip(pts, pts[1:]))
        km += rkm
        if abs(rkm - r.distance_km) > 0.01 + 1e-3 * rkm:
            violations.append(Violation("kpi_distance", f"route says {r.distance_km} km, recomputed {rkm:.3f}",
                                        rep_id=r.rep_id, date=r.date))
        hours = (r.back - r.depart).total_seconds() / 3600
        cost = rkm * rep.cost_per_km + hours * rep.cost_per_hour
        if abs(cost - r.cost) > 0.05 + 1e-3 * cost:
            violations.append(Violation("kpi_cost", f"route says cost {r.cost}, recomputed {cost:.2f}",
                                        rep_id=r.rep_id, date=r.date))
    kpis = plan_kpis(plan, required_visits=required_visits(region, plan))
    return Evaluation(tuple(violations), kpis, rep_kpis(plan), round(km, 3))


def required_visits(region: Region, plan: Plan) -> int:
    """Visits the active customers are owed over the horizon (partial blocks: visits planned
    or reported there, at most the frequency)."""
    from planner.evaluation.constraints import visits_by_customer
    visits = visits_by_customer(plan)
    owed: dict[str, int] = {}
    for u in plan.unassigned:
        owed[u.customer_id] = owed.get(u.customer_id, 0) + 1
    horizon = 7 * plan.weeks
    total = 0
    for c in region.customers:
        if not c.active:
            continue
        if c.allowed_days is not None:
            total += len(c.allowed_days[0])
            continue
        f = region.policy.frequency_of(c)
        full, rest = divmod(horizon, f.period_days)
        total += full * f.visits
        if rest:
            lo = plan.start.toordinal() + full * f.period_days
            k = sum(1 for d, _ in visits.get(c.id, []) if d.toordinal() >= lo)
            k += sum(1 for u in plan.unassigned if u.customer_id == c.id and u.date is not None
                     and u.date.toordinal() >= lo)
            total += min(k, f.visits)
    return total


def _route_points(plan: Plan, customers, reps):
    for r in plan.routes:
        rep = reps.get(r.rep_id)
        if rep is None:
            continue
        yield rep.start
        yield rep.end_location
        for s in r.stops:
            if s.customer_id in customers:
                yield customers[s.customer_id].location
