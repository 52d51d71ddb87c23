"""Territory design (``planner territories``): customers to reps, balanced on routed workloads.

:func:`design_territories` splits the active customers of a region between its reps so that

* every rep's workload over the horizon — visit hours plus the driving of its days, *routed*
  (below) — is within ±``tolerance`` of its share of the total, shares proportional to the
  reps' working hours (``balance="visits"``: the number of visits instead);
* territories are compact: the split is :func:`planner.scheduling.territory.assign_territories`,
  a balanced districting on travel times whose territories are the cells of a power diagram
  around their centres, so a customer sits outside the territory with the nearest centre only
  when balance shifts the boundary (:attr:`RepTerritory.nearer_other`), and no territory
  reaches into another's area (:attr:`RepTerritory.enclaves`, :attr:`RepTerritory.inside_other`
  measure what is left: pins, and boundary customers moved for balance);
* with ``previous`` (the current owners) every changed owner costs ``change_cost_minutes`` in
  the compactness cost, whose unit is such that a customer of average workload 10 minutes from
  its centre costs 10 minutes and one 20 minutes away 40 (it grows with the square of the
  drive): the default 30 weighs like taking a customer from 10 to 20 minutes from its centre.
  So small changes of the input change few owners;
* pins (``Customer.rep_id``: the CRM's account owners) are kept, and only eligible reps are used
  (the engine's eligibility, :func:`planner.scheduling.eligibility.eligibility`).

*Routed workload* (:func:`routed_load`): each rep's visit days chosen as the engine does
(:func:`planner.scheduling.day_choice.choose_patterns`), then each day driven as a nearest
neighbour + 2-opt tour from the rep's start to its end location
(:func:`planner.scheduling.capacity.day_tour`), the estimate of the capacity pre-check (2-6%
above the routed plans' driving on the fixture region). The balanced assignment needs additive
workloads: the first split uses, per visit, the visit length + the mean drive to the customer's
4 nearest customers. Then, while the routed deviation is above the tolerance (at most
``calibration_rounds`` times), the split is redone from the current territories on calibrated
workloads: per visit, the visit length + one factor × the mean drive to the 4 nearest customers
*of its current territory* (so an outlier weighs what it costs its rep), the factor making the
sum equal the routed driving, the same workload whichever rep takes it (were it larger with a
distant rep, an underloaded rep would be balanced with the customers it serves worst); what
this leaves out of a territory's routed work (stems from home, spread) stays with the territory
as a fixed part of its workload; leaving the territory of the round before costs
:data:`ANCHOR_MINUTES`. Of the splits made (and, with ``previous``, the previous owners as they
are, new customers placed by the first split), the one kept has the least routed
deviation beyond the tolerance + :data:`KEEP_WEIGHT` × the share of previous owners it changes
(deviations within the tolerance count as the tolerance).

Everything here is pure: no database, no files; the CLI stores and shows the result.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from planner.domain import Region
from planner.geo.travel import TravelMatrix
from planner.scheduling.capacity import day_tour
from planner.scheduling.eligibility import eligibility
from planner.scheduling.day_choice import choose_patterns
from planner.scheduling.instance import PlanningInstance, build_instance, instance_locations
from planner.scheduling.patterns import Pattern
from planner.scheduling.territory import (ENCLAVE_K, HOME_WEIGHT, assign_territories, capacity_seconds,
                                          nearest_customers, symmetric_times, territory_centres, travel_allowance)

BALANCE_MODES: tuple[str, ...] = ("hours", "visits")
HOUR_S = 3600.0
KEEP_WEIGHT = 0.2        # choosing a split: changing 5% of the previous owners weighs like 1 point of deviation
ANCHOR_MINUTES = 10.0   # calibration rounds: leaving the territory of the round before costs this (cost minutes)


@dataclass(frozen=True)
class RoutedLoad:
    """Per rep over the horizon: visits, visit seconds and estimated driving seconds (routed day
    tours)."""

    visits: np.ndarray
    visit_s: np.ndarray
    travel_s: np.ndarray

    @property
    def work_s(self) -> np.ndarray:
        """Visit plus driving seconds per rep."""
        return self.visit_s + self.travel_s


def routed_load(inst: PlanningInstance, rep_of: np.ndarray,
                options: Mapping[tuple[int, int], list[Pattern]]) -> RoutedLoad:
    """Each rep's visits, visit time and driving over the horizon for the split ``rep_of``:
    visit days by :func:`choose_patterns`, each day a nearest neighbour + 2-opt tour."""
    m = len(inst.reps)
    visits, visit_s, travel_s = np.zeros(m), np.zeros(m), np.zeros(m)
    for r in range(m):
        mine = [int(c) for c in np.flatnonzero(rep_of == r)]
        chosen = choose_patterns(inst, r, mine, {c: options[(c, r)] for c in mine})
        by_day: dict[int, list[int]] = {}
        for c, p in chosen.items():
            for d in p.days:
                by_day.setdefault(d, []).append(c)
                visits[r] += 1
                visit_s[r] += float(inst.service_s[c])
        rd = inst.reps[r].day
        for d in sorted(by_day):
            path = [rd.start_loc, *day_tour(inst.dur_s, rd.start_loc, rd.end_loc, sorted(by_day[d])), rd.end_loc]
            travel_s[r] += float(sum(inst.dur_s[a, b] for a, b in zip(path, path[1:])))
    return RoutedLoad(visits, visit_s, travel_s)


def deviations(load: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Each rep's load relative to its share of the total (shares ∝ ``capacity``), minus 1:
    0.05 = 5% above its share. Reps without capacity get 0."""
    total, cap = float(load.sum()), float(capacity.sum())
    if total <= 0 or cap <= 0:
        return np.zeros(len(load))
    target = total * capacity / cap
    return np.where(target > 0, load / np.where(target > 0, target, 1.0) - 1.0, 0.0)


@dataclass(frozen=True)
class RepTerritory:
    """One rep's territory: per-week figures (horizon averages) and compactness.

    ``deviation``: of the balanced measure (hours: visit + driving hours; visits: visits) from
    the rep's share of the total. ``to_centre_minutes``: mean drive between a customer and the
    territory's centre (its medoid; both directions averaged), ``to_centre_max_minutes`` the
    largest. ``nearer_other``: customers whose nearest territory centre is another rep's (the
    boundary shifted for balance). ``enclaves``: customers none of whose 4 nearest customers
    belongs to the territory (sitting in other reps' area; pins included).
    ``inside_other``: customers of other territories inside this territory's convex hull.
    """

    rep_id: str
    name: str
    customers: int
    visits_per_week: float
    visit_hours_per_week: float
    travel_hours_per_week: float
    available_hours_per_week: float
    deviation: float
    centre_id: str | None
    to_centre_minutes: float
    to_centre_max_minutes: float
    nearer_other: int
    enclaves: int
    inside_other: int

    @property
    def hours_per_week(self) -> float:
        """Visit plus driving hours a week."""
        return self.visit_hours_per_week + self.travel_hours_per_week


@dataclass(frozen=True)
class TerritoryDesign:
    """The territories of a region: owner per customer and per-rep figures.

    ``assignment``: customer id -> rep id for every active customer some rep can serve (pins
    included); ``pinned``: the customers whose rep was fixed by their pin; ``unservable``:
    (customer id, reason code, reason) of those no rep can serve. With ``previous``:
    ``compared`` customers had a previous owner among the reps and are still planned, ``kept``
    of them keep it; ``changes`` lists (customer id, old rep, new rep).
    ``calibration_rounds``: splits redone on routed workloads.
    """

    start: dt.date
    weeks: int
    balance: str
    tolerance: float
    assignment: Mapping[str, str]
    pinned: frozenset[str]
    reps: tuple[RepTerritory, ...]
    unservable: tuple[tuple[str, str, str], ...]
    compared: int
    kept: int
    changes: tuple[tuple[str, str, str], ...]
    calibration_rounds: int
    seconds: float

    @property
    def max_deviation(self) -> float:
        """The largest |deviation| over the reps (0 without reps)."""
        return max((abs(r.deviation) for r in self.reps), default=0.0)

    @property
    def kept_share(self) -> float | None:
        """Share of the compared customers that keep their previous owner (None: no previous)."""
        return self.kept / self.compared if self.compared else None

    @property
    def inside_other(self) -> int:
        """Customers inside another territory's convex hull, all reps together."""
        return sum(r.inside_other for r in self.reps)

    @property
    def enclaves(self) -> int:
        """Customers sitting in another territory's area, all reps together."""
        return sum(r.enclaves for r in self.reps)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures (hours rounded to 0.01, shares to 0.0001)."""
        def h(x: float) -> float:
            return round(float(x), 2)
        return {
            "start": self.start.isoformat(), "weeks": self.weeks, "balance": self.balance,
            "tolerance": self.tolerance, "max_deviation": round(self.max_deviation, 4),
            "kept_share": None if self.kept_share is None else round(self.kept_share, 4),
            "compared": self.compared, "kept": self.kept, "enclaves": self.enclaves,
            "inside_other": self.inside_other, "calibration_rounds": self.calibration_rounds,
            "seconds": round(self.seconds, 2),
            "reps": [{"rep_id": r.rep_id, "name": r.name, "customers": r.customers,
                      "visits_per_week": h(r.visits_per_week), "visit_hours_per_week": h(r.visit_hours_per_week),
                      "travel_hours_per_week": h(r.travel_hours_per_week), "hours_per_week": h(r.hours_per_week),
                      "available_hours_per_week": h(r.available_hours_per_week),
                      "deviation": round(r.deviation, 4), "centre": r.centre_id,
                      "to_centre_minutes": h(r.to_centre_minutes), "to_centre_max_minutes": h(r.to_centre_max_minutes),
                      "nearer_other": r.nearer_other, "enclaves": r.enclaves, "inside_other": r.inside_other}
                     for r in self.reps],
            "assignment": dict(sorted(self.assignment.items())),
            "pinned": sorted(self.pinned),
            "changes": [{"customer_id": c, "from": a, "to": b} for c, a, b in self.changes],
            "unservable": [{"customer_id": c, "code": k, "reason": why} for c, k, why in self.unservable],
        }


def design_territories(region: Region, start: dt.date, weeks: int, *, travel: TravelMatrix,
                       balance: str = "hours", previous: Mapping[str, str] | None = None,
                       rep_ids: Sequence[str] | None = None, tolerance: float = 0.03,
                       change_cost_minutes: float = 30.0, rounds: int = 4, calibration_rounds: int = 4,
                       home_weight: float = HOME_WEIGHT) -> TerritoryDesign:
    """Territories for the active customers of ``region`` over ``weeks`` weeks from ``start``
    (see the module doc). ``previous``: customer id -> rep id, the current owners to keep
    where balance allows (each change costs ``change_cost_minutes`` in the compactness cost's
    unit; previous owners of pinned customers are ignored). ``rep_ids``: only these reps.
    ``tolerance``: the workload band (±share of the fair share); ``rounds``: re-centring rounds
    of the first split; ``home_weight``: share of the compactness cost that is drive from the
    rep's home. Raises ``ValueError`` for an unknown ``balance``, ``weeks`` < 1 or no reps.
    """
    if balance not in BALANCE_MODES:
        raise ValueError(f"balance must be one of {', '.join(BALANCE_MODES)}, not {balance!r}")
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    t0 = time.monotonic()
    wanted = None if rep_ids is None else set(rep_ids)
    reps = [r for r in region.reps if wanted is None or r.id in wanted]
    if not reps:
        raise ValueError("no reps to make territories for")
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    inst = build_instance(region, start, weeks, mats.distance_km, mats.duration_s, customers, reps)
    n, m = inst.n, len(reps)
    rindex = {r.id: i for i, r in enumerate(reps)}
    missing = [i for i, c in enumerate(customers) if c.rep_id and c.rep_id not in rindex]
    eligible, options, why_not = eligibility(inst, missing)
    visits = np.zeros((n, m))
    for (c, r), pats in options.items():
        visits[c, r] = len(pats[0].days)
    prev = np.full(n, -1, dtype=int)
    for c, cust in enumerate(customers):   # pinned customers have no choice: not compared
        r = rindex.get((previous or {}).get(cust.id, ""), -1)
        if r >= 0 and r in eligible[c] and inst.pinned[c] is None:
            prev[c] = r
    extra = None
    if np.any(prev >= 0):
        extra = np.zeros((n, m))
        has = prev >= 0
        extra[has] = change_cost_minutes * 60.0
        extra[np.flatnonzero(has), prev[has]] = 0.0
    cap = capacity_seconds(inst)
    sym = symmetric_times(inst)
    if balance == "visits":
        weight = visits
    else:  # visit time + a first drive allowance (mean drive to the 4 nearest customers of all)
        weight = visits * (inst.service_s[:, None] + travel_allowance(inst)[:, None])
    rep_of = assign_territories(inst, eligible, visits.max(axis=1), rounds=rounds, slack=1.0 + tolerance,
                                weight=weight, start=prev if np.any(prev >= 0) else None, extra_cost=extra,
                                home_weight=home_weight).rep_of
    has_prev = prev >= 0

    def rank(split: np.ndarray, worst: float) -> tuple[float, float]:
        # deviation beyond the band, plus (with previous owners) the share of owners changed × KEEP_WEIGHT
        changed = float(np.mean(split[has_prev] != prev[has_prev])) if has_prev.any() else 0.0
        return (max(worst, tolerance) + KEEP_WEIGHT * changed, worst)

    est = routed_load(inst, rep_of, options)
    best = (_worst_deviation(est, cap, balance), rep_of, est)
    if has_prev.any():  # the previous owners as they are (new customers as the split has them)
        kept = np.where(has_prev, prev, rep_of)
        kept_est = routed_load(inst, kept, options)
        kept_worst = _worst_deviation(kept_est, cap, balance)
        if rank(kept, kept_worst) < rank(rep_of, best[0]):
            best = (kept_worst, kept, kept_est)
    used = 0
    rep_of, est = best[1], best[2]
    while balance == "hours" and best[0] > tolerance and used < calibration_rounds:
        used += 1
        # calibrate on the routed tours: drive allowance of c in territory r = mean drive to its 4
        # nearest customers of r, times one factor for all; what the allowances leave out of
        # each territory's routed work (stems from home, spread) stays with the territory (offset)
        own = _member_allowance(sym[:n, :n], rep_of, travel_allowance(inst))
        rows = np.flatnonzero(rep_of >= 0)
        cols = rep_of[rows]
        allowed = float((visits[rows, cols] * own[rows]).sum())
        factor = float(est.travel_s.sum()) / allowed if allowed > 0 else 1.0
        # the same workload with every rep: a customer far from a rep's others must not look
        # attractive to an underloaded rep because it would cost that rep more
        weight = visits * (inst.service_s + factor * own)[:, None]
        offset = est.work_s - np.array([weight[rep_of == r, r].sum() for r in range(m)])
        anchor = np.full((n, m), ANCHOR_MINUTES * 60.0)
        anchor[rows, cols] = 0.0
        rep_of = assign_territories(inst, eligible, visits.max(axis=1), rounds=1, slack=1.0 + tolerance,
                                    weight=weight, start=rep_of, extra_cost=anchor if extra is None else anchor + extra,
                                    offset=offset, home_weight=home_weight).rep_of
        est = routed_load(inst, rep_of, options)
        worst = _worst_deviation(est, cap, balance)
        if rank(rep_of, worst) < rank(best[1], best[0]):
            best = (worst, rep_of, est)
    _worst, rep_of, est = best
    measure = est.visits if balance == "visits" else est.work_s
    dev = deviations(measure, cap)
    centres = territory_centres(inst, rep_of, sym)
    elig = np.zeros((n, m), dtype=bool)
    for c, rs in enumerate(eligible):
        elig[c, rs] = True
    inside = _inside_other_hull(inst, rep_of)
    enclave = _enclaves(rep_of, nearest_customers(sym[:n, :n], ENCLAVE_K))
    to_centre = np.array([sym[c, centres[rep_of[c]]] if rep_of[c] >= 0 else 0.0 for c in range(n)])
    nearest_centre = np.argmin(np.where(elig, sym[:n][:, centres], np.inf), axis=1) if n else np.zeros(0, int)
    figures = []
    for r, rep in enumerate(reps):
        mine = np.flatnonzero(rep_of == r)
        centre_id = customers[int(centres[r])].id if len(mine) else None
        figures.append(RepTerritory(
            rep_id=rep.id, name=rep.name, customers=len(mine),
            visits_per_week=float(est.visits[r]) / weeks, visit_hours_per_week=float(est.visit_s[r]) / HOUR_S / weeks,
            travel_hours_per_week=float(est.travel_s[r]) / HOUR_S / weeks,
            available_hours_per_week=float(cap[r]) / HOUR_S / weeks, deviation=float(dev[r]), centre_id=centre_id,
            to_centre_minutes=float(to_centre[mine].mean()) / 60 if len(mine) else 0.0,
            to_centre_max_minutes=float(to_centre[mine].max()) / 60 if len(mine) else 0.0,
            nearer_other=int(np.sum(nearest_centre[mine] != r)), enclaves=int(enclave[mine].sum()),
            inside_other=int(inside[r])))
    assignment = {customers[c].id: reps[int(rep_of[c])].id for c in range(n) if rep_of[c] >= 0}
    pinned = frozenset(customers[c].id for c in range(n) if inst.pinned[c] is not None and rep_of[c] >= 0)
    compared = [c for c in range(n) if prev[c] >= 0 and rep_of[c] >= 0]
    changes = tuple((customers[c].id, reps[int(prev[c])].id, reps[int(rep_of[c])].id)
                    for c in compared if rep_of[c] != prev[c])
    unservable = tuple((customers[c].id, code, why) for c, (code, why) in sorted(why_not.items()))
    return TerritoryDesign(
        start=start, weeks=weeks, balance=balance, tolerance=tolerance,
        assignment=MappingProxyType(assignment), pinned=pinned, reps=tuple(figures), unservable=unservable,
        compared=len(compared), kept=len(compared) - len(changes), changes=changes, calibration_rounds=used,
        seconds=time.monotonic() - t0)


def _worst_deviation(est: RoutedLoad, cap: np.ndarray, balance: str) -> float:
    """The largest |deviation| of the balanced measure (routed hours, or visits)."""
    dev = deviations(est.visits if balance == "visits" else est.work_s, cap)
    return float(np.abs(dev).max()) if len(dev) else 0.0


def _member_allowance(sym: np.ndarray, rep_of: np.ndarray, fallback: np.ndarray, k: int = 4) -> np.ndarray:
    """Per customer: the mean drive to its ``k`` nearest other customers of its territory
    (``fallback`` for customers without a territory or alone in theirs)."""
    out = fallback.astype(float).copy()
    for r in np.unique(rep_of[rep_of >= 0]):
        members = np.flatnonzero(rep_of == r)
        if len(members) < 2:
            continue
        d = sym[np.ix_(members, members)] + np.eye(len(members)) * 1e18
        j = min(k, len(members) - 1)
        out[members] = np.partition(d, j - 1, axis=1)[:, :j].mean(axis=1)
    return out


def _enclaves(rep_of: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """Per customer: True when none of its ``neighbours`` (customers × k nearest customers)
    belongs to its own territory: it sits in other reps' area."""
    out = np.zeros(len(rep_of), dtype=bool)
    for c in np.flatnonzero(rep_of >= 0):
        others = neighbours[c][neighbours[c] != c]
        out[c] = len(others) > 0 and not np.any(rep_of[others] == rep_of[c])
    return out


def _inside_other_hull(inst: PlanningInstance, rep_of: np.ndarray) -> np.ndarray:
    """Per rep: how many customers of other territories lie strictly inside the convex hull of
    its customers (coordinates projected to km around the region's mean latitude)."""
    n = inst.n
    out = np.zeros(len(inst.reps), dtype=int)
    if n == 0:
        return out
    lat = np.array([c.location.lat for c in inst.customers])
    lon = np.array([c.location.lon for c in inst.customers])
    xy = np.column_stack([lon * np.cos(np.radians(lat.mean())) * 111.32, lat * 110.57])
    for r in range(len(inst.reps)):
        members = np.flatnonzero(rep_of == r)
        hull = _hull([tuple(p) for p in xy[members]])
        if len(hull) < 3:
            continue
        others = np.flatnonzero((rep_of != r) & (rep_of >= 0))
        if not len(others):
            continue
        h = np.array(hull)
        a, b = h, np.roll(h, -1, axis=0)
        p = xy[others]
        cross = ((b[None, :, 0] - a[None, :, 0]) * (p[:, None, 1] - a[None, :, 1])
                 - (b[None, :, 1] - a[None, :, 1]) * (p[:, None, 0] - a[None, :, 0]))
        out[r] = int(np.all(cross > 1e-9, axis=1).sum())
    return out


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull, counter-clockwise (Andrew's monotone chain); fewer than 3 points as given."""
    pts = sorted(set(points))
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
