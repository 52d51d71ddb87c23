"""Big regions: decompose by territory, plan the parts in parallel, recombine, check the whole.

With account ownership (``Region.ownership``, the default) each customer is seen by one rep over
the horizon, so once territories are assigned the reps are independent problems.
:func:`plan_region_parallel` does this in four steps:

1. *Territories*: the engine's own steps on the whole region: :func:`build_instance`, the
   engine's eligibility (:meth:`Engine.eligibility`) and :func:`assign_territories`, so workloads
   are balanced between all reps. Customers no rep can see are reported here with the engine's
   code and reason. A region with more than :data:`BLOCK_CUSTOMERS` active customers is first cut
   into geographic blocks of reps (recursive bisection of the reps' homes, weighted by working
   hours; a customer joins the block of its pinned rep, else of the rep whose home is nearest),
   and the territory step runs block by block, so no matrix over all customers is built (20,000
   customers would need 3 GB per matrix). Eligibility is then judged among the block's reps.
2. *Parts*: neighbouring territories are grouped (recursive bisection of the territories'
   centres, weighted by their workload) into parts of similar work: :data:`PARTS_PER_WORKER`
   parts per worker, and at least one per :data:`PART_CUSTOMERS` customers. A part is a
   sub-region: its reps and their customers, each pinned to its territory's rep, so the parts
   share nothing. Where the frequencies allow (:func:`weeks_independent`: every customer N times
   a week), each part is also cut into its weeks, planned apart and reunited.
3. *Solve*: each part is planned by :func:`planner.pipeline.plan_region` (``check=False``)
   through a :class:`PartExecutor`: :class:`SerialExecutor` (this process),
   :class:`LocalPoolExecutor` (a ``spawn`` process pool) or Celery workers
   (:class:`planner.jobs.celery_app.CeleryExecutor`).
4. *Recombine*: routes, unplanned visits, assignment and patterns are merged into one
   :class:`Plan` (:func:`merge`) and the independent evaluator checks the whole plan against the
   whole region; a violation raises :class:`PlanRejected`, exactly as in ``plan_region``.

Time: the parts run ``workers`` at a time, so each part gets a share of what the territory step
left of the time limit (at least half of it), ``left × min(workers, parts) / parts``
(``part_time_limit`` overrides it): the plan takes about ``time_limit`` plus the final check.
With ``deterministic=True`` the share is of the whole time limit (no clock involved).

Determinism: territories and parts depend on the input only, never on timing, and every part
gets the seed; with ``deterministic=True`` each part's plan does not depend on timing either, so
the same input, seed, part count and part time limit give the same plan on any executor.

Compared with planning the region in one piece, a customer cannot change rep after the
territory step (improvement still moves customers between days and patterns).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import multiprocessing
import os
import queue as queue_mod
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Collection, Mapping, Protocol, Sequence

import numpy as np

from planner.domain import Customer, Location, Plan, Region, Rep, Route, Unassigned, customer_facts
from planner.evaluation.evaluator import evaluate
from planner.geo.travel import HaversineTravel, Matrices, TravelMatrix
from planner.pipeline import PlanRejected, PlanResult, plan_region, to_plan
from planner.pipeline.codec import pack, unpack
from planner.pipeline.engine import Engine, EngineResult
from planner.scheduling.instance import build_instance, instance_locations
from planner.scheduling.territory import assign_territories
from planner.solver.ortools_engine import OrToolsEngine

PARTS_PER_WORKER = 2     # parts per worker: the pool stays busy when parts end at different times
PART_CUSTOMERS = 1000    # at least one part per this many active customers
BLOCK_CUSTOMERS = 2500   # above this many active customers the territory step runs per block
KM_PER_DEG = 111.19508

Progress = Callable[[str, float], None]
PartProgress = Callable[[int, float], None]

__all__ = ["Part", "PartResult", "Decomposition", "PartExecutor", "SerialExecutor", "LocalPoolExecutor",
           "RouteLegTravel",
           "PartFailed", "decompose", "solve_part", "merge", "plan_region_parallel", "default_workers",
           "part_count", "PARTS_PER_WORKER", "PART_CUSTOMERS", "BLOCK_CUSTOMERS"]


class PartFailed(RuntimeError):
    """A part could not be planned (its error, or its worker died); nothing of the plan is kept."""


@dataclass(frozen=True)
class Part:
    """One independent sub-problem: some reps with their customers (pinned to them), and how to
    plan it. ``travel`` None: the worker uses its own configured travel provider."""

    index: int
    region: Region
    start: dt.date
    weeks: int
    time_limit: float
    seed: int
    travel: TravelMatrix | None
    deterministic: bool = False
    improve: bool = True
    balance_days: bool = True
    last_visits: Mapping[str, dt.date] | None = None
    priority: tuple[str, ...] = ()
    work_s: float = 0.0
    absences: Mapping[str, frozenset[dt.date]] | None = None
    day_offset: int = 0  # a week part: its first day, in days after the whole plan's start

    @property
    def rep_ids(self) -> tuple[str, ...]:
        """The part's reps."""
        return tuple(r.id for r in self.region.reps)


@dataclass(frozen=True)
class PartResult:
    """A part's plan: routes, unplanned visits, owner and pattern per customer, figures."""

    index: int
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    assignment: Mapping[str, str]
    patterns: Mapping[str, tuple[int, ...]]
    stats: Mapping[str, Any]
    day_offset: int = 0  # the part's first day after the plan's start: its pattern offsets shift by it


@dataclass(frozen=True)
class Decomposition:
    """A region cut into parts, with what the territory step found for the whole.

    ``unassigned``: the visits of customers no rep can see (with the engine's reason);
    ``assignment``: each customer's territory rep; ``part_count``: how many parts were made
    (``parts`` may be dropped, see :meth:`without_parts`, once they are sent); ``absences``:
    rep id -> dates away, as given."""

    region: Region
    start: dt.date
    weeks: int
    seed: int
    time_limit: float
    parts: tuple[Part, ...]
    part_count: int
    unassigned: tuple[Unassigned, ...]
    assignment: Mapping[str, str]
    stats: Mapping[str, Any]
    absences: Mapping[str, frozenset[dt.date]] | None = None

    def without_parts(self) -> "Decomposition":
        """The same decomposition without the parts' sub-regions (all :func:`merge` needs)."""
        return dataclasses.replace(self, parts=())


class PartExecutor(Protocol):
    """Plans parts somewhere: this process, a local process pool, Celery workers."""

    def run(self, parts: Sequence[Part], progress: PartProgress | None = None) -> list[PartResult]:
        """Plan every part and return the results in the order of ``parts``. ``progress`` gets
        (part index, fraction done). Raises :class:`PartFailed` if a part cannot be planned."""
        ...


# ----------------------------------------------------------------------------------------------
# Sizes
# ----------------------------------------------------------------------------------------------
def default_workers() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def part_count(n_customers: int, n_reps: int, workers: int) -> int:
    """How many parts to make: :data:`PARTS_PER_WORKER` per worker, at least one per
    :data:`PART_CUSTOMERS` customers, at most one per rep."""
    want = max(PARTS_PER_WORKER * max(1, workers), math.ceil(n_customers / PART_CUSTOMERS))
    return max(1, min(n_reps, want))


# ----------------------------------------------------------------------------------------------
# Geometry helpers
# ----------------------------------------------------------------------------------------------
def _xy(points: Sequence[Location], lat0: float) -> np.ndarray:
    """Points in a local plane (km), good enough to group neighbours."""
    if not points:
        return np.zeros((0, 2))
    lat = np.fromiter((p.lat for p in points), float, len(points))
    lon = np.fromiter((p.lon for p in points), float, len(points))
    return np.column_stack([lon * math.cos(math.radians(lat0)) * KM_PER_DEG, lat * KM_PER_DEG])


def bisect_groups(xy: np.ndarray, weight: np.ndarray, k: int) -> list[list[int]]:
    """Split the points ``0..len(xy)-1`` into ``k`` groups of neighbours with similar total
    weight: cut along the longer side at the weighted quantile, recursively. Deterministic."""
    def split(items: list[int], k: int) -> list[list[int]]:
        if k <= 1 or len(items) <= 1:
            return [items]
        k = min(k, len(items))
        left_k = k // 2
        pts = xy[items]
        axis = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
        order = sorted(items, key=lambda i: (xy[i, axis], xy[i, 1 - axis], i))
        w = weight[order]
        cum = np.cumsum(w)
        target = cum[-1] * left_k / k
        cut = int(np.searchsorted(cum, target)) + 1  # items before the cut go left
        if cut > 1 and abs(cum[cut - 2] - target) < abs(cum[cut - 1] - target):
            cut -= 1
        cut = min(max(cut, left_k), len(order) - (k - left_k))  # each side: at least one item per group
        return split(order[:cut], left_k) + split(order[cut:], k - left_k)

    if len(xy) == 0:
        return []
    return [g for g in split(list(range(len(xy))), k) if g]


def _nearest(xy: np.ndarray, centres: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Index of the nearest centre of each point (in chunks: no n × m matrix at once)."""
    out = np.empty(len(xy), dtype=int)
    for a in range(0, len(xy), chunk):
        d = ((xy[a:a + chunk, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        out[a:a + chunk] = np.argmin(d, axis=1)
    return out


# ----------------------------------------------------------------------------------------------
# Step 1: territories
# ----------------------------------------------------------------------------------------------
def _territory_step(region: Region, start: dt.date, weeks: int, customers: Sequence[Customer],
                    reps: Sequence[Rep], travel: TravelMatrix, missing_ids: Collection[str],
                    last_visits: Mapping[str, dt.date] | None, priority: Collection[str],
                    absences: Mapping[str, Collection[dt.date]] | None = None
                    ) -> tuple[dict[str, str], list[Unassigned], dict[str, float]]:
    """The engine's eligibility and territories for ``customers`` and ``reps``: (customer id ->
    rep id, unplanned visits of the customers no rep can see, workload seconds per rep id)."""
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    inst = build_instance(region, start, weeks, mats.distance_km, mats.duration_s, customers, reps,
                          last_visits=last_visits, priority=priority, absences=absences)
    del mats
    missing = frozenset(i for i, c in enumerate(customers) if c.id in missing_ids)
    eligible, options, unplanned = Engine(inst, OrToolsEngine(), missing_pins=missing).eligibility()
    # visits per customer over the horizon, as Engine.run gives them to assign_territories
    visits = np.array([len(options[(c, eligible[c][0])][0].days) if eligible[c] else 0 for c in range(inst.n)],
                      dtype=float)
    terr = assign_territories(inst, eligible, visits)
    owner = {customers[c].id: reps[int(terr.rep_of[c])].id for c in range(inst.n) if terr.rep_of[c] >= 0}
    nobody = to_plan(inst, EngineResult({}, {}, {}, [u for u in unplanned if u[1] is None]), seed=0, time_limit=0.0)
    load = {reps[r].id: float(terr.load[r]) for r in range(len(reps))}
    return owner, list(nobody.unassigned), load


def _blocks(customers: Sequence[Customer], reps: Sequence[Rep], n_blocks: int, lat0: float
            ) -> list[tuple[list[Customer], list[Rep]]]:
    """Geographic blocks of reps (homes bisected, weighted by weekly working hours) with the
    customers of each: a pinned customer with its rep, the others with the nearest home."""
    homes = _xy([r.start for r in reps], lat0)
    hours = np.array([(r.work_end - r.work_start) * len(r.workdays) for r in reps], dtype=float)
    groups = bisect_groups(homes, hours, n_blocks)
    block_of_rep = {}
    for b, g in enumerate(groups):
        for i in g:
            block_of_rep[reps[i].id] = b
    near = _nearest(_xy([c.location for c in customers], lat0), homes)
    out: list[tuple[list[Customer], list[Rep]]] = [([], [reps[i] for i in sorted(g)]) for g in groups]
    for c, i in zip(customers, near):
        b = block_of_rep.get(c.rep_id) if c.rep_id else None
        out[b if b is not None else block_of_rep[reps[int(i)].id]][0].append(c)
    return out


# ----------------------------------------------------------------------------------------------
# Step 2: parts
# ----------------------------------------------------------------------------------------------
def weeks_independent(region: Region, customers: Sequence[Customer], reps: Sequence[Rep], weeks: int) -> bool:
    """True if the weeks of the horizon can be planned apart: more than one week, every customer
    visited N times a week (no fortnightly or longer period, no explicit patterns), and no rep
    works both Sunday and Monday, so that the last visit of a week (Saturday at the latest) and
    the first of the next (Monday at the earliest) are always two days apart, the spacing N/week
    asks for. Account ownership holds because each customer is pinned to its territory's rep in
    every week part."""
    if weeks < 2 or not customers:
        return False
    if any(c.allowed_days is not None or region.policy.frequency_of(c).weeks != 1 for c in customers):
        return False
    return not any({0, 6} <= set(r.workdays) for r in reps)


def decompose(region: Region, start: dt.date, weeks: int, *, parts: int, time_limit: float = 30.0,
              part_time_limit: float | None = None, workers: int = 1, seed: int = 0,
              travel: TravelMatrix | None = None, rep_ids: Sequence[str] | None = None,
              deterministic: bool = False, last_visits: Mapping[str, dt.date] | None = None,
              priority: Collection[str] = (), improve: bool = True, balance_days: bool = True,
              absences: Mapping[str, Collection[dt.date]] | None = None,
              ship_travel: bool = True, block_customers: int = BLOCK_CUSTOMERS,
              split_weeks: bool | None = None) -> Decomposition:
    """Cut ``region`` into ``parts`` independent parts (see the module doc). ``workers``: how
    many parts will run at a time (for each part's share of ``time_limit``). The other options
    are those of :func:`planner.pipeline.plan_region`. ``ship_travel`` False: parts carry no
    travel provider (each worker uses its own). ``block_customers``: above this many active
    customers the territory step runs per geographic block. ``split_weeks``: also cut each part
    into its weeks (see :func:`weeks_independent`); None (default): when the frequencies allow."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if not region.ownership:
        raise ValueError("only regions with account ownership can be decomposed by territory")
    t0 = time.monotonic()
    travel = travel or HaversineTravel()
    away = {rid: frozenset(days) for rid, days in (absences or {}).items() if days} or None
    reps = [r for r in region.reps if rep_ids is None or r.id in set(rep_ids)]
    if not reps:
        raise ValueError("no reps to plan with")
    planned = {r.id for r in reps}
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    missing_ids = {c.id for c in customers if c.rep_id and c.rep_id not in planned}
    lat0 = float(np.mean([c.location.lat for c in customers])) if customers else reps[0].start.lat
    n_blocks = max(1, min(len(reps), math.ceil(len(customers) / max(1, block_customers))))
    blocks = _blocks(customers, reps, n_blocks, lat0) if n_blocks > 1 else [(customers, reps)]
    owner: dict[str, str] = {}
    nobody: list[Unassigned] = []
    load: dict[str, float] = {}
    for b_customers, b_reps in blocks:
        if not b_customers:
            load.update({r.id: 0.0 for r in b_reps})
            continue
        o, u, w = _territory_step(region, start, weeks, sorted(b_customers, key=lambda c: c.id), b_reps, travel,
                                  missing_ids, last_visits, priority, away)
        owner.update(o)
        nobody.extend(u)
        load.update(w)
    territory_s = time.monotonic() - t0

    # group neighbouring territories into parts of similar work
    xy = _xy([c.location for c in customers], lat0)
    pos = {c.id: i for i, c in enumerate(customers)}
    centre = _xy([r.start for r in reps], lat0)
    members: dict[str, list[str]] = {r.id: [] for r in reps}
    for cid, rid in sorted(owner.items()):
        members[rid].append(cid)
    for i, r in enumerate(reps):
        if members[r.id]:
            centre[i] = xy[[pos[c] for c in members[r.id]]].mean(axis=0)
    weight = np.array([load.get(r.id, 0.0) + 1.0 for r in reps])
    groups = bisect_groups(centre, weight, max(1, min(parts, len(reps))))
    by_week = weeks_independent(region, customers, reps, weeks) if split_weeks is None else \
        (split_weeks and weeks > 1 and weeks_independent(region, customers, reps, weeks))
    n_parts = sum(1 for g in groups if any(members[reps[i].id] for i in g)) * (weeks if by_week else 1)
    # the territory step counts against the time limit (as eligibility does in plan_region), but
    # not in deterministic runs, whose search lengths must not depend on the clock
    budget = time_limit if deterministic else max(0.5 * time_limit, time_limit - (time.monotonic() - t0))
    share = part_time_limit if part_time_limit is not None else \
        budget * min(max(1, workers), max(1, n_parts)) / max(1, n_parts)
    by_id = {c.id: c for c in customers}
    last = dict(last_visits or {})
    prio = set(priority)
    out: list[Part] = []
    for g in groups:
        g_reps = tuple(reps[i] for i in sorted(g))
        ids = sorted(c for r in g_reps for c in members[r.id])
        if not ids:
            continue  # reps without customers have nothing to plan
        sub = Region(customers=tuple(dataclasses.replace(by_id[c], rep_id=owner[c]) for c in ids), reps=g_reps,
                     policy=region.policy, ownership=True)
        for w in (range(weeks) if by_week else [None]):
            out.append(Part(index=len(out), region=sub, start=start + dt.timedelta(days=7 * (w or 0)),
                            weeks=1 if w is not None else weeks, time_limit=round(share, 3), seed=seed,
                            travel=travel if ship_travel else None, deterministic=deterministic, improve=improve,
                            balance_days=balance_days,
                            last_visits=({c: last[c] for c in ids if c in last} or None) if not w else None,
                            priority=tuple(c for c in ids if c in prio) if not w else (),
                            work_s=round(sum(load.get(r.id, 0.0) for r in g_reps) / (weeks if by_week else 1), 1),
                            absences=({r.id: away[r.id] for r in g_reps if r.id in away} or None) if away else None,
                            day_offset=7 * (w or 0)))
    stats = {"blocks": len(blocks), "territory_seconds": round(territory_s, 2), "part_time_limit": round(share, 3),
             "workers": workers, "parts": len(out), "by_week": by_week}
    return Decomposition(region=region, start=start, weeks=weeks, seed=seed, time_limit=time_limit,
                         parts=tuple(out), part_count=len(out),
                         unassigned=tuple(sorted(nobody, key=lambda u: (u.customer_id, u.date or dt.date.min))),
                         assignment=MappingProxyType(dict(sorted(owner.items()))), stats=MappingProxyType(stats),
                         absences=away)


# ----------------------------------------------------------------------------------------------
# Step 3: one part
# ----------------------------------------------------------------------------------------------
def solve_part(part: Part, progress: Progress | None = None) -> PartResult:
    """Plan one part with :func:`planner.pipeline.plan_region` (``check=False``: the whole plan
    is checked after the merge)."""
    t0 = time.monotonic()
    res = plan_region(part.region, part.start, part.weeks, time_limit=part.time_limit, seed=part.seed,
                      travel=part.travel, progress=progress, check=False, deterministic=part.deterministic,
                      last_visits=part.last_visits or None, priority=part.priority, improve=part.improve,
                      balance_days=part.balance_days, absences=part.absences)
    plan = res.plan
    stats = {k: v for k, v in res.stats.items() if isinstance(v, (int, float, str, bool, np.generic))}
    stats.update({
        "index": part.index, "reps": list(part.rep_ids), "customers": len(part.region.customers),
        "visits": sum(len(r.stops) for r in plan.routes),
        "distance_km": round(sum(r.distance_km for r in plan.routes), 3),
        "cost": round(sum(r.cost for r in plan.routes), 2), "unassigned": len(plan.unassigned),
        "time_limit": part.time_limit, "wall_seconds": round(time.monotonic() - t0, 2),
        "work_s": part.work_s, "violations": len(res.evaluation.violations)})
    return PartResult(part.index, plan.routes, plan.unassigned, dict(plan.assignment), dict(plan.patterns), stats,
                      part.day_offset)


# ----------------------------------------------------------------------------------------------
# Step 4: recombine
# ----------------------------------------------------------------------------------------------
class _LegMatrix:
    """Read-only ``[i, j]`` access to one figure (0: km, 1: seconds) between ``locations``,
    from legs computed beforehand, else asked of the provider pair by pair."""

    def __init__(self, locations: Sequence[Location], legs: dict, which: int, base: TravelMatrix):
        self.locations, self.legs, self.which, self.base = locations, legs, which, base

    def __getitem__(self, ij: tuple[int, int]) -> float:
        a, b = self.locations[ij[0]], self.locations[ij[1]]
        hit = self.legs.get((a, b))
        if hit is None:
            m = self.base.get_matrix([a, b])
            hit = self.legs[(a, b)] = (float(m.distance_km[0, 1]), float(m.duration_s[0, 1]))
        return hit[self.which]


class RouteLegTravel:
    """The travel provider ``base`` for checking a big plan: the values of the legs of the plan's
    routes, asked of ``base`` route by route, instead of one matrix over every point (20,000
    customers: 3 GB per matrix). The evaluator reads only legs (``[i, j]``), so it checks the
    same figures; a set of at most ``small`` locations gets ``base``'s own matrix."""

    def __init__(self, base: TravelMatrix, plan: Plan, region: Region, small: int = BLOCK_CUSTOMERS):
        self.base, self.small = base, small
        self.legs: dict[tuple[Location, Location], tuple[float, float]] = {}
        where = {c.id: c.location for c in region.customers}
        reps = {r.id: r for r in region.reps}
        for r in plan.routes:
            rep = reps.get(r.rep_id)
            if rep is None or not r.stops or any(s.customer_id not in where for s in r.stops):
                continue
            pts = [rep.start, *(where[s.customer_id] for s in r.stops), rep.end_location]
            m = base.get_matrix(pts)
            for k in range(len(pts) - 1):
                self.legs[(pts[k], pts[k + 1])] = (float(m.distance_km[k, k + 1]), float(m.duration_s[k, k + 1]))

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """``base``'s matrices for few locations; else lazy leg lookups (see the class doc)."""
        if len(locations) <= self.small:
            return self.base.get_matrix(locations)
        locs = list(locations)
        return Matrices(_LegMatrix(locs, self.legs, 0, self.base), _LegMatrix(locs, self.legs, 1, self.base))  # type: ignore[arg-type]


SUMMED = ("pattern_moves", "rep_moves", "repaired", "polished", "lns_moves", "lns_iterations")


def merge(dec: Decomposition, results: Sequence[PartResult], travel: TravelMatrix | None = None, *,
          check: bool = True, plan_id: str | None = None, seconds: float | None = None) -> PlanResult:
    """One plan from the parts' plans, checked by the evaluator against the whole region.

    Raises :class:`PlanRejected` if ``check`` and the evaluator finds a violation."""
    got = sorted(r.index for r in results)
    if got != list(range(dec.part_count)):
        raise PartFailed(f"the parts' results do not match the decomposition: got parts {got} "
                         f"of {dec.part_count}")
    results = sorted(results, key=lambda r: r.index)
    order = {r.id: i for i, r in enumerate(dec.region.reps)}
    routes = sorted((rt for r in results for rt in r.routes),
                    key=lambda rt: (rt.date, order.get(rt.rep_id, len(order)), rt.rep_id))
    unassigned = sorted([*dec.unassigned, *(u for r in results for u in r.unassigned)],
                        key=lambda u: (u.customer_id, u.date or dt.date.min))
    assignment: dict[str, str] = {}
    patterns: dict[str, tuple[int, ...]] = {}
    for r in results:
        assignment.update(r.assignment)
        for k, v in r.patterns.items():  # week parts: shift to the plan's start and unite
            patterns[k] = tuple(sorted({*patterns.get(k, ()), *(d + r.day_offset for d in v)}))
    plan = Plan(plan_id=plan_id or uuid.uuid4().hex, start=dec.start, weeks=dec.weeks, routes=tuple(routes),
                unassigned=tuple(unassigned), assignment=MappingProxyType(dict(sorted(assignment.items()))),
                patterns=MappingProxyType(dict(sorted(patterns.items()))),
                created_at=dt.datetime.now().replace(microsecond=0), seed=dec.seed, time_limit=dec.time_limit,
                facts=MappingProxyType({c.id: customer_facts(c, dec.region.policy)  # as plan_region records them
                                        for c in sorted(dec.region.customers, key=lambda c: c.id) if c.active}))
    travel = travel or HaversineTravel()
    points = len({s.customer_id for r in plan.routes for s in r.stops}) + 2 * len(dec.region.reps)
    if points > BLOCK_CUSTOMERS:  # no matrix over every point of a big region
        travel = RouteLegTravel(travel, plan, dec.region)
    evaluation = evaluate(dec.region, plan, travel, absences=dec.absences)
    if check and not evaluation.ok:
        raise PlanRejected(evaluation)
    stats: dict[str, Any] = {k: sum(r.stats.get(k, 0) for r in results) for k in SUMMED}
    stats.update(dict(dec.stats))
    stats["part_stats"] = [dict(r.stats) for r in results]
    if seconds is not None:
        stats["seconds"] = round(seconds, 2)
    return PlanResult(plan, evaluation, stats)


# ----------------------------------------------------------------------------------------------
# Executors
# ----------------------------------------------------------------------------------------------
class SerialExecutor:
    """Plans the parts one after another in this process."""

    def run(self, parts: Sequence[Part], progress: PartProgress | None = None) -> list[PartResult]:
        """See :meth:`PartExecutor.run`."""
        out = []
        for p in parts:
            report = (lambda stage, frac, i=p.index: progress(i, frac)) if progress else None
            try:
                out.append(solve_part(p, report))
            except Exception as e:
                raise PartFailed(f"part {p.index + 1} of {len(parts)} failed: {e}") from e
            if progress:
                progress(p.index, 1.0)
        return out


_PROGRESS_QUEUE: Any = None  # in a pool process: where part progress goes (set by _init_pool_process)


def _init_pool_process(progress_queue: Any) -> None:
    global _PROGRESS_QUEUE
    _PROGRESS_QUEUE = progress_queue


def _solve_in_pool(payload: str) -> str:
    part: Part = unpack(payload, trusted=True)
    last = [0.0]

    def report(stage: str, frac: float) -> None:
        now = time.monotonic()
        if _PROGRESS_QUEUE is not None and now - last[0] >= 0.5:
            last[0] = now
            _PROGRESS_QUEUE.put((part.index, float(frac)))

    return pack(solve_part(part, report))


class LocalPoolExecutor:
    """Plans the parts in a local pool of ``workers`` processes (``spawn``: nothing of this
    process is inherited). A process that dies fails the plan (:class:`PartFailed`)."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))

    def run(self, parts: Sequence[Part], progress: PartProgress | None = None) -> list[PartResult]:
        """See :meth:`PartExecutor.run`."""
        if not parts:
            return []
        ctx = multiprocessing.get_context("spawn")
        progress_queue = ctx.Queue()
        results: dict[int, PartResult] = {}

        def drain() -> None:
            while True:
                try:
                    i, frac = progress_queue.get_nowait()
                except queue_mod.Empty:
                    return
                if progress and i not in results:
                    progress(i, frac)

        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(parts)), mp_context=ctx,
                                   initializer=_init_pool_process, initargs=(progress_queue,))
        try:
            futures = {pool.submit(_solve_in_pool, pack(p)): p.index for p in parts}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                drain()
                for f in done:
                    i = futures[f]
                    try:
                        results[i] = unpack(f.result(), trusted=True)
                    except BrokenProcessPool as e:
                        raise PartFailed(f"a local worker process died (killed or out of memory) while planning "
                                         f"part {i + 1} of {len(parts)}") from e
                    except Exception as e:
                        raise PartFailed(f"part {i + 1} of {len(parts)} failed: {e}") from e
                    if progress:
                        progress(i, 1.0)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            progress_queue.close()
            progress_queue.join_thread()
        return [results[p.index] for p in parts]


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------
def plan_region_parallel(region: Region, start: dt.date, weeks: int, *, workers: int | None = None,
                         executor: PartExecutor | None = None, parts: int | None = None,
                         part_time_limit: float | None = None, time_limit: float = 30.0, seed: int = 0,
                         travel: TravelMatrix | None = None, rep_ids: Sequence[str] | None = None,
                         progress: Progress | None = None, check: bool = True, deterministic: bool = False,
                         last_visits: Mapping[str, dt.date] | None = None, priority: Collection[str] = (),
                         improve: bool = True, balance_days: bool = True,
                         absences: Mapping[str, Collection[dt.date]] | None = None) -> PlanResult:
    """Plan like :func:`planner.pipeline.plan_region`, decomposed by territory and solved in
    parallel (see the module doc).

    ``workers``: parts planned at a time (default: the cores); ``executor`` (default: a
    :class:`LocalPoolExecutor` of ``workers`` processes, or this process for one worker);
    ``parts``: how many parts (default :func:`part_count`); ``part_time_limit``: each part's
    search time (default: its share of ``time_limit``). A region without account ownership,
    with one rep, or with one worker and no ``parts`` given is planned by ``plan_region``
    in one piece. Raises :class:`PlanRejected` if ``check`` and the evaluator finds a violation,
    :class:`PartFailed` if a part cannot be planned.
    """
    t0 = time.monotonic()
    workers = max(1, workers if workers is not None else default_workers())
    travel = travel or HaversineTravel()
    n_reps = sum(1 for r in region.reps if rep_ids is None or r.id in set(rep_ids))
    n_customers = sum(1 for c in region.customers if c.active)
    n_parts = parts if parts is not None else (part_count(n_customers, n_reps, workers) if workers > 1 else 1)
    if not region.ownership or n_parts <= 1 or n_reps <= 1 or n_customers == 0:
        return plan_region(region, start, weeks, time_limit=time_limit, seed=seed, travel=travel, rep_ids=rep_ids,
                           progress=progress, check=check, deterministic=deterministic, last_visits=last_visits,
                           priority=priority, improve=improve, balance_days=balance_days, absences=absences)
    report = progress or (lambda stage, frac: None)
    report("territories", 0.02)
    dec = decompose(region, start, weeks, parts=n_parts, time_limit=time_limit, part_time_limit=part_time_limit,
                    workers=workers, seed=seed, travel=travel, rep_ids=rep_ids, deterministic=deterministic,
                    last_visits=last_visits, priority=priority, improve=improve, balance_days=balance_days,
                    absences=absences)
    done = np.zeros(len(dec.parts))

    def on_part(i: int, frac: float) -> None:
        done[i] = max(done[i], min(1.0, frac))
        finished = int((done >= 1.0).sum())
        report(f"parts {finished}/{len(done)}", 0.1 + 0.8 * float(done.mean()))

    report(f"parts 0/{len(dec.parts)}", 0.1)
    if executor is None:
        executor = LocalPoolExecutor(workers) if workers > 1 else SerialExecutor()
    results = executor.run(dec.parts, on_part)
    report("evaluation", 0.92)
    result = merge(dec, results, travel, check=check, seconds=time.monotonic() - t0)
    report("done", 1.0)
    return result
