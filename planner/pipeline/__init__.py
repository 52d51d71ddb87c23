"""From a region to a checked plan: build the instance, run the engine, evaluate.

:func:`plan_region` is the one entry point the CLI, the API jobs and the benchmarks call.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Collection, Mapping, Sequence

from planner.domain import Plan, Region, Route, Stop, Unassigned, customer_facts
from planner.evaluation.evaluator import Evaluation, evaluate
from planner.geo.travel import HaversineTravel, TravelMatrix
from planner.pipeline.engine import Engine, EngineResult
from planner.scheduling.instance import PlanningInstance, build_instance, instance_locations
from planner.solver import pyvrp_engine
from planner.solver.ortools_engine import OrToolsEngine

Progress = Callable[[str, float], None]


class PlanRejected(RuntimeError):
    """The evaluator found the engine's plan wrong (a solver bug): it must not be stored."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation = evaluation
        first = "; ".join(str(v) for v in evaluation.violations[:5])
        super().__init__(f"plan rejected by the evaluator ({len(evaluation.violations)} violations): {first}")


@dataclass(frozen=True)
class PlanResult:
    """A plan with its independent evaluation and the engine's statistics."""

    plan: Plan
    evaluation: Evaluation
    stats: dict


def plan_region(region: Region, start: dt.date, weeks: int, *, time_limit: float = 30.0, seed: int = 0,
                travel: TravelMatrix | None = None, rep_ids: Sequence[str] | None = None,
                progress: Progress | None = None, check: bool = True,
                deterministic: bool = False, last_visits: Mapping[str, dt.date] | None = None,
                priority: Collection[str] = (), improve: bool = True, balance_days: bool = True,
                absences: Mapping[str, Collection[dt.date]] | None = None) -> PlanResult:
    """Plan ``weeks`` weeks from ``start`` for the active customers of ``region``.

    ``deterministic``: every search phase ends by iteration counts or local optima instead of
    the clock, so the same input and seed give the same plan on any machine (the time limit
    then only scales nothing and may be exceeded). ``last_visits``: each customer's last visit
    before ``start`` (see :func:`last_visits_before`), so spacing continues across plans.
    ``priority``: ids of customers owed visits (frequency debt): planned first, as early as
    their spacing allows. ``improve=False`` gives the simple two-phase baseline (patterns
    greedily, then daily routes) used by the benchmarks. ``balance_days`` (default): with
    account ownership, improvement keeps each rep's days within 1.2x of its average day (and
    not lighter than the average / 1.44), as the rules ask; False lets it pack visits into
    fewer, longer days when that costs less. ``absences``: rep id -> dates the rep is away (no
    visits then; patterns work around them).

    Raises :class:`PlanRejected` if ``check`` and the evaluator finds a violation.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    travel = travel or HaversineTravel()
    reps = [r for r in region.reps if rep_ids is None or r.id in set(rep_ids)]
    planned_ids = {r.id for r in reps}
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    inst = build_instance(region, start, weeks, mats.distance_km, mats.duration_s, customers, reps,
                          last_visits=last_visits, priority=priority, absences=absences)
    missing = frozenset(i for i, c in enumerate(customers) if c.rep_id and c.rep_id not in planned_ids)
    fast = pyvrp_engine.PyVrpEngine() if pyvrp_engine.available() else None
    result = Engine(inst, OrToolsEngine(), time_limit=time_limit, seed=seed, progress=progress,
                    missing_pins=missing, deterministic=deterministic, improve=improve, balance_days=balance_days,
                    fast_router=fast, fast_supports=pyvrp_engine.supports).run()
    plan = to_plan(inst, result, seed=seed, time_limit=time_limit)
    plan = dataclasses.replace(plan, facts=MappingProxyType({c.id: customer_facts(c, region.policy)
                                                             for c in customers}))
    evaluation = evaluate(region, plan, travel, absences=absences)
    if check and not evaluation.ok:
        raise PlanRejected(evaluation)
    return PlanResult(plan, evaluation, result.stats)


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=int(seconds))


def to_plan(inst: PlanningInstance, res: EngineResult, *, seed: int, time_limit: float,
            plan_id: str | None = None) -> Plan:
    """Convert the engine's index-based result into a domain :class:`Plan`."""
    routes = []
    for (r, d), rt in sorted(res.routes.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if not rt.seq:
            continue
        day = inst.date(d)
        rd = inst.reps[r]
        tl = rt.timeline
        stops = tuple(
            Stop(inst.customers[c].id, _at(day, a), _at(day, s), _at(day, s + int(inst.service_s[c])))
            for c, a, s in zip(rt.seq, tl.arrivals, tl.starts))
        locs = [rd.day.start_loc, *rt.seq, rd.day.end_loc]
        km = float(sum(inst.dist_km[a, b] for a, b in zip(locs, locs[1:])))
        drive = float(sum(inst.dur_s[a, b] for a, b in zip(locs, locs[1:]))) / 60
        routes.append(Route(rep_id=rd.rep.id, date=day, stops=stops, depart=_at(day, tl.depart),
                            back=_at(day, tl.back),
                            lunch_start=_at(day, tl.lunch_start) if tl.lunch_start is not None else None,
                            distance_km=round(km, 3), drive_minutes=round(drive, 2), cost=round(rt.cost, 2)))
    unassigned = []
    for c, d, code, reason in res.unplanned:
        cust = inst.customers[c]
        if d is None:
            dates = _missing_dates(inst, c)
            for day in dates or [None]:
                unassigned.append(Unassigned(cust.id, day, code, reason))
        else:
            unassigned.append(Unassigned(cust.id, inst.date(d), code, reason))
    return Plan(
        plan_id=plan_id or uuid.uuid4().hex, start=inst.start, weeks=inst.weeks, routes=tuple(routes),
        unassigned=tuple(sorted(unassigned, key=lambda u: (u.customer_id, u.date or dt.date.min))),
        assignment=MappingProxyType({inst.customers[c].id: inst.reps[r].rep.id for c, r in res.rep_of.items()}),
        patterns=MappingProxyType({inst.customers[c].id: tuple(p.days) for c, p in res.pattern.items()}),
        created_at=dt.datetime.now().replace(microsecond=0), seed=seed, time_limit=time_limit)


def _missing_dates(inst: PlanningInstance, c: int) -> list[dt.date]:
    """Nominal dates of a customer's required visits when no rep can take it: the first plannable
    day of each block from the instance's first day on, less visits already made there (for the
    record; the reason says why none is planned)."""
    f = inst.frequencies[c]
    hist = inst.history[c] if inst.history else ()
    out = []
    for b in range(0, inst.n_days, f.period_days):
        if b + f.period_days <= inst.first_day:
            continue
        done = sum(1 for d in hist if b <= d < b + f.period_days)
        out.extend([inst.date(max(b, inst.first_day))] * max(0, f.visits - done))
    return out


def last_visits_before(plan: Plan, start: dt.date) -> dict[str, dt.date]:
    """Each customer's last planned visit in ``plan`` before ``start``."""
    out: dict[str, dt.date] = {}
    for r in plan.routes:
        if r.date < start:
            for s in r.stops:
                if s.customer_id not in out or out[s.customer_id] < r.date:
                    out[s.customer_id] = r.date
    return out
