"""Routed days during search: sequences with exact timelines and costs, insertion and removal."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from planner.scheduling.instance import PlanningInstance
from planner.solver.timeline import Timeline, schedule_day


@dataclass
class DayRoute:
    """One rep's day during search: visit order, its timeline and its cost."""

    seq: list[int]
    timeline: Timeline
    cost: float
    version: int = 0
    legs: tuple | None = field(default=None, repr=False, compare=False)  # see :func:`route_legs`
    plain: tuple | None = field(default=None, repr=False, compare=False)  # see :func:`_plain_legs`


SMALL = 16  # routes of fewer visits are priced in plain Python: numpy's cost per call dominates there


def route_legs(inst: PlanningInstance, r: int, route: DayRoute) -> tuple:
    """The route's legs (from and to locations, km, seconds) and its idle seconds (its span less
    driving, visits and lunch), worked out on first use and kept: a route never changes."""
    if route.legs is None:
        rd = inst.reps[r]
        locs = np.array([rd.day.start_loc, *route.seq, rd.day.end_loc])
        a, b = locs[:-1], locs[1:]
        leg_s = inst.dur_s[a, b]
        tl = route.timeline
        idle = 0
        if route.seq:
            idle = (tl.back - tl.depart) - int(leg_s.sum()) - int(inst.service_s[route.seq].sum()) \
                - (rd.day.lunch_duration if tl.lunch_start is not None else 0)
        route.legs = (a, b, inst.dist_km[a, b], leg_s, idle)
    return route.legs


def _plain_legs(inst: PlanningInstance, r: int, route: DayRoute) -> tuple:
    """:func:`route_legs` as Python lists (from and to locations, km, seconds) and the idle
    seconds, for the plain-Python pricing of small routes; kept like the legs."""
    if route.plain is None:
        a, b, leg_km, leg_s, idle = route_legs(inst, r, route)
        route.plain = (a.tolist(), b.tolist(), leg_km.tolist(), leg_s.tolist(), idle)
    return route.plain


def _python_floats(inst: PlanningInstance) -> bool:
    """True if the matrices give the same figures as Python numbers (float64 km, integer seconds)."""
    return inst.dist_km.dtype == np.float64 and inst.dur_s.dtype.kind in "iu"


def route_cost(inst: PlanningInstance, r: int, seq: list[int], tl: Timeline) -> float:
    """Cost of a route: km × cost per km + hours from leaving to being back × cost per hour."""
    if not seq:
        return 0.0
    rd = inst.reps[r]
    locs = [rd.day.start_loc, *seq, rd.day.end_loc]
    if len(seq) < SMALL and _python_floats(inst):
        item = inst.dist_km.item
        km = 0.0
        for x, y in zip(locs, locs[1:]):
            km += item(x, y)
    else:
        km = float(inst.dist_km[locs[:-1], locs[1:]].sum())
    return km * rd.cost_per_km + (tl.back - tl.depart) * rd.cost_per_second


def make_route(inst: PlanningInstance, r: int, seq: list[int], d: int | None = None) -> DayRoute | None:
    """Timeline and cost of visiting ``seq`` in order on rep ``r``'s day (day offset ``d``: fixed
    appointment times that day apply); None if infeasible (times, lunch, visit cap or capacity)."""
    cap = inst.reps[r].capacity
    if cap is not None and inst.demand is not None and int(inst.demand[seq].sum() if seq else 0) > cap:
        return None
    tl = schedule_day([inst.visit(c, r, d) for c in seq], inst.reps[r].day, inst.dur_s)
    if tl is None:
        return None
    return DayRoute(list(seq), tl, route_cost(inst, r, seq, tl))


def _has_room(inst: PlanningInstance, r: int, route: DayRoute, c: int) -> bool:
    """False if the visit cap or the capacity of rep ``r``'s day forbids adding ``c``."""
    rd = inst.reps[r]
    seq = route.seq
    if rd.day.max_visits is not None and len(seq) + 1 > rd.day.max_visits:
        return False
    return not (rd.capacity is not None and inst.demand is not None and
                int(inst.demand[seq].sum() if seq else 0) + int(inst.demand[c]) > rd.capacity)


def _position_prices(inst: PlanningInstance, r: int, route: DayRoute, c: int,
                     detours: bool = True) -> tuple[list[float], list[float] | None]:
    """Per position of ``c`` in ``route``: a lower bound of the insertion's cost (the exact extra
    km, and the day grown by at least the extra driving and the visit less the route's idle
    time) and, if ``detours``, the detour (extra km and extra driving). Small routes in plain
    Python, others with numpy: the same figures."""
    rd = inst.reps[r]
    per_km, per_s = rd.cost_per_km, rd.cost_per_second
    add = int(inst.service_s[c])
    if len(route.seq) < SMALL and _python_floats(inst):
        a, b, leg_km, leg_s, idle = _plain_legs(inst, r, route)
        dk, ds = inst.dist_km.item, inst.dur_s.item
        add -= idle
        bound: list[float] = []
        detour: list[float] | None = [] if detours else None
        for x, y, k, t in zip(a, b, leg_km, leg_s):
            extra_km = dk(x, c) + dk(c, y) - k
            extra_s = ds(x, c) + ds(c, y) - t
            grow = extra_s + add
            bound.append(extra_km * per_km + (grow if grow > 0 else 0) * per_s)
            if detour is not None:
                detour.append(extra_km * per_km + extra_s * per_s)
        return bound, detour
    a, b, leg_km, leg_s, idle = route_legs(inst, r, route)
    extra_km = inst.dist_km[a, c] + inst.dist_km[c, b] - leg_km
    extra_s = inst.dur_s[a, c] + inst.dur_s[c, b] - leg_s
    bound_a = extra_km * per_km + np.maximum(0, extra_s + (add - idle)) * per_s
    return bound_a.tolist(), (extra_km * per_km + extra_s * per_s).tolist() if detours else None


def insertion_estimate(inst: PlanningInstance, r: int, route: DayRoute, c: int) -> float:
    """A lower bound of :func:`best_insertion`'s cost, quick to work out (no timeline): over all
    positions, the least of the extra km plus the extra driving and the visit less the route's
    idle time (at least 0) (inf if the visit cap or the capacity forbids it)."""
    if not _has_room(inst, r, route, c):
        return float("inf")
    return min(_position_prices(inst, r, route, c, detours=False)[0])


def best_insertion(inst: PlanningInstance, r: int, route: DayRoute, c: int,
                   tries: int = 3, d: int | None = None) -> tuple[float, DayRoute] | None:
    """Cheapest feasible insertion of ``c`` into ``route`` (checks the ``tries`` best positions
    by detour, exactly, with the timeline; ties: the earlier position first). Returns (cost
    increase, new route) or None.

    A position is not timed when a lower bound of its cost already reaches the best found: the
    extra km are exact, and the day grows by at least the extra driving and the visit less the
    idle time the route has (its span is driving, visits, lunch and idle time)."""
    if not _has_room(inst, r, route, c):
        return None
    seq = route.seq
    bound, detour = _position_prices(inst, r, route, c)
    best: tuple[float, DayRoute] | None = None
    for pos in sorted(range(len(bound)), key=detour.__getitem__)[:tries]:
        if best is not None and bound[pos] >= best[0] - 1e-9:
            continue  # cannot beat the best position found
        new_seq = seq[:pos] + [c] + seq[pos:]
        nr = make_route(inst, r, new_seq, d)
        if nr is not None:
            delta = nr.cost - route.cost
            if best is None or delta < best[0]:
                best = (delta, nr)
    return best


def removal(inst: PlanningInstance, r: int, route: DayRoute, c: int,
            d: int | None = None) -> tuple[float, DayRoute]:
    """Cost decrease when ``c`` leaves ``route`` (rep ``r``, day offset ``d``) and the route without it."""
    seq = [x for x in route.seq if x != c]
    nr = make_route(inst, r, seq, d)
    if nr is None:  # cannot happen with triangle-inequality travel times; keep the order anyway
        nr = DayRoute(seq, route.timeline, route.cost)
    return route.cost - nr.cost, nr


def _order_moves(n: int) -> list[list[int]]:
    """Every order reachable from ``0..n-1`` by one or-opt move (a run of 1 to 3 visits moved
    elsewhere, kept or reversed) or one 2-opt move (a run reversed in place), each once."""
    base = list(range(n))
    out: dict[tuple[int, ...], None] = {}
    for i in range(n):
        for j in range(i + 1, n):  # 2-opt: reverse base[i..j]
            out[tuple(base[:i] + base[i:j + 1][::-1] + base[j + 1:])] = None
        for k in range(1, min(3, n - 1) + 1):
            if i + k > n:
                break
            seg = base[i:i + k]
            rest = base[:i] + base[i + k:]
            for p in range(len(rest) + 1):
                if p == i:
                    continue
                for s in (seg, seg[::-1]) if k > 1 else (seg,):
                    out[tuple(rest[:p] + s + rest[p:])] = None
    out.pop(tuple(base), None)
    return [list(o) for o in out]


_MOVES: dict[int, np.ndarray] = {}  # the moves of n visits, as orders (rows), made once per n


def improve_order(inst: PlanningInstance, r: int, route: DayRoute, d: int | None = None,
                  max_timed: int = 8) -> DayRoute:
    """The route with its visit order improved by or-opt and 2-opt moves, one improving move at a
    time until none improves: every neighbour order is bounded from below at once (its exact km,
    and a day no shorter than its driving, visits and lunch), and only those whose bound beats
    the current cost are timed, cheapest bound first, at most ``max_timed`` per round; the first
    that is feasible and cheaper is taken. Days of 3 to 12 visits only (the moves of a longer
    day grow as its square: those are left to the polish). Returns ``route`` itself when
    nothing improves."""
    rd = inst.reps[r]
    fixed = int(inst.service_s[route.seq].sum()) + (rd.day.lunch_duration if rd.day.has_lunch else 0) \
        if route.seq else 0
    while 3 <= len(route.seq) <= 12:
        n = len(route.seq)
        moves = _MOVES.get(n)
        if moves is None:
            moves = _MOVES[n] = np.array(_order_moves(n), dtype=np.int64)
        seq = np.asarray(route.seq)
        locs = np.empty((len(moves), n + 2), dtype=np.int64)
        locs[:, 0] = rd.day.start_loc
        locs[:, -1] = rd.day.end_loc
        locs[:, 1:-1] = seq[moves]
        a, b = locs[:, :-1], locs[:, 1:]
        bound = inst.dist_km[a, b].sum(axis=1) * rd.cost_per_km
        if rd.cost_per_second:
            bound = bound + (inst.dur_s[a, b].sum(axis=1) + fixed) * rd.cost_per_second
        better = np.flatnonzero(bound < route.cost - 1e-6)
        found = None
        for m in better[np.argsort(bound[better], kind="stable")][:max_timed]:
            nr = make_route(inst, r, [int(x) for x in seq[moves[m]]], d)
            if nr is not None and nr.cost < route.cost - 1e-6:
                found = nr
                break
        if found is None:
            return route
        route = found
    return route
