"""Pattern moves priced with penalties: the start of a joint routing that can change patterns.

With a shared fleet over several days and tight vehicles (a periodic VRP), moving a customer to
another pattern seldom fits as routed: the routes of its new days are full, and exact insertion
(:meth:`planner.pipeline.engine._State.improve`) finds no move, although a re-routing of those
days would make room. As in the hybrid genetic search of Vidal et al. (2012), a move may here
overload a route (load or duration) at a price per unit of excess, so long as the day's vehicles
together can still carry its load; the routing engine, started from the moved plan, then repairs
the overloads while it re-routes all days (the caller keeps the result only if it is better).

:func:`tabu_pattern_search` makes such moves for many iterations, the best of a sample each time
even when it costs more (as in the tabu search of Cordeau, Gendreau & Laporte, 1997), and keeps
the cheapest plan without excess it meets.

Works on plain visit sequences (customer indices per (vehicle, day)); distances and durations
are the instance's matrices, customers are their own locations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Sequence

import numpy as np

from planner.scheduling.patterns import Pattern

Key = tuple[int, int]


@dataclass(frozen=True)
class Fleet:
    """What the moves need of each vehicle: its depots, capacity (None: unlimited), working
    span in seconds (None: unlimited) and cost per metre."""

    start: Sequence[int]
    end: Sequence[int]
    capacity: Sequence[float | None]
    span: Sequence[float | None]


@dataclass
class _Route:
    seq: list[int]
    load: float
    dur: float  # driving and visit time, seconds
    dist: float  # metres


class _DayArrays(NamedTuple):
    """One day's insertion positions over all its routes (:meth:`_Plan._day_arrays`)."""

    before: np.ndarray  # node before each position
    after: np.ndarray  # node after it
    route: np.ndarray  # the position's route: its index in the day's keys
    index: np.ndarray  # the position's index in that route
    dist: np.ndarray  # metres of the arc a visit there would break
    dur: np.ndarray  # seconds of that arc
    load: np.ndarray  # per route of the day: its load
    work: np.ndarray  # ... and working time


class _Plan:
    """Routes as visit sequences with their load, working time and metres, and the moves of one
    customer's visits between them, priced with penalties per unit of excess (see the module)."""

    def __init__(self, seqs: Mapping[Key, Sequence[int]], fleet: Fleet, dist: np.ndarray, dur: np.ndarray,
                 service: np.ndarray, demand: np.ndarray | None, load_price: float, time_price: float):
        self.fleet, self.dist, self.dur, self.service, self.demand = fleet, dist, dur, service, demand
        self.load_price, self.time_price = load_price, time_price
        self.routes: dict[Key, _Route] = {}
        self.day_keys: dict[int, list[Key]] = {}
        for k, seq in seqs.items():
            v = k[0]
            path = [fleet.start[v], *seq, fleet.end[v]]
            self.routes[k] = _Route(list(seq), float(sum(demand[c] for c in seq)) if demand is not None else 0.0,
                                    float(sum(dur[a, b] for a, b in zip(path, path[1:])) + sum(service[c] for c in seq)),
                                    float(sum(dist[a, b] for a, b in zip(path, path[1:]))))
            self.day_keys.setdefault(k[1], []).append(k)
        self.day_cap = {d: (sum(fleet.capacity[k[0]] for k in ks) if all(fleet.capacity[k[0]] is not None for k in ks)
                            else None) for d, ks in self.day_keys.items()}
        self.day_load = {d: sum(self.routes[k].load for k in ks) for d, ks in self.day_keys.items()}
        inf = float("inf")  # (no capacity or span: no limit)
        self._cap = {d: np.array([inf if fleet.capacity[k[0]] is None else float(fleet.capacity[k[0]]) for k in ks])
                     for d, ks in self.day_keys.items()}
        self._span = {d: np.array([inf if fleet.span[k[0]] is None else float(fleet.span[k[0]]) for k in ks])
                      for d, ks in self.day_keys.items()}
        self._timed = {d: bool(np.isfinite(span).any()) for d, span in self._span.items()}
        self._days: dict[int, _DayArrays] = {}  # day -> _day_arrays
        self.where: dict[Key, Key] = {}  # (customer, day) -> route key
        self.days_of: dict[int, set[int]] = {}  # customer -> days it is on
        for k, rt in self.routes.items():
            for c in rt.seq:
                self.where[(c, k[1])] = k
                self.days_of.setdefault(c, set()).add(k[1])

    def _q(self, c: int) -> float:
        return float(self.demand[c]) if self.demand is not None else 0.0

    def excess(self, k: Key, load: float, time: float) -> float:
        """The price of route ``k`` carrying ``load`` in ``time`` seconds of work."""
        v = k[0]
        cap, span = self.fleet.capacity[v], self.fleet.span[v]
        return (self.load_price * max(0.0, load - cap) if cap is not None else 0.0) + \
            (self.time_price * max(0.0, time - span) if span is not None else 0.0)

    def excess_units(self) -> float:
        """Units of load and seconds of work beyond the vehicles' over all routes (0: feasible)."""
        out = 0.0
        for (v, _d), rt in self.routes.items():
            cap, span = self.fleet.capacity[v], self.fleet.span[v]
            out += (max(0.0, rt.load - cap) if cap is not None else 0.0) + \
                (max(0.0, rt.dur - span) if span is not None else 0.0)
        return out

    def metres(self) -> float:
        """Metres driven over all routes."""
        return float(sum(rt.dist for rt in self.routes.values()))

    def _day_arrays(self, d: int) -> _DayArrays:
        """Day ``d``'s insertion positions over all its routes, as arrays (cached until one of
        its routes changes; see :class:`_DayArrays`)."""
        got = self._days.get(d)
        if got is None:
            before: list[int] = []
            after: list[int] = []
            route: list[int] = []
            index: list[int] = []
            load: list[float] = []
            work: list[float] = []
            for r, k in enumerate(self.day_keys.get(d, ())):
                v, rt = k[0], self.routes[k]
                path = [self.fleet.start[v], *rt.seq, self.fleet.end[v]]
                before.extend(path[:-1])
                after.extend(path[1:])
                route.extend([r] * (len(path) - 1))
                index.extend(range(len(path) - 1))
                load.append(rt.load)
                work.append(rt.dur)
            a, b = np.array(before, dtype=np.intp), np.array(after, dtype=np.intp)
            got = self._days[d] = _DayArrays(a, b, np.array(route, dtype=np.intp), np.array(index, dtype=np.intp),
                                             self.dist[a, b], self.dur[a, b], np.array(load), np.array(work))
        return got

    def _changed(self, d: int) -> None:
        self._days.pop(d, None)

    def best_insert(self, c: int, d: int, force: bool = False,
                    exclude: frozenset[Key] = frozenset()) -> tuple[float, Key, int] | None:
        """Cheapest (priced) route and position of day ``d`` for a visit to ``c``, routes of
        ``exclude`` left out; None if the day's vehicles together cannot carry it (unless
        ``force``) or no route is left. Every position of the day is priced at once
        (:meth:`_day_arrays`); ties go to the first route of the day, then the first position."""
        q = self._q(c)
        if not force and self.day_cap.get(d) is not None and self.day_load[d] + q > self.day_cap[d] + 1e-9:
            return None
        keys = self.day_keys.get(d, ())
        if not keys:
            return None
        a, b, r, i, dist_ab, dur_ab, load, work = self._day_arrays(d)
        cap = self._cap[d]
        cost = (self.dist[a, c] + self.dist[c, b] - dist_ab).astype(float)
        # (the same sums as excess(): load and time beyond the vehicle's, at their prices)
        cost += (self.load_price * (np.maximum(0.0, load + q - cap) - np.maximum(0.0, load - cap)))[r]
        if self._timed[d]:
            span = self._span[d]
            dt = self.dur[a, c] + self.dur[c, b] - dur_ab + self.service[c]
            cost += self.time_price * (np.maximum(0.0, work[r] + dt - span[r]) - np.maximum(0.0, work - span)[r])
        if exclude:
            out = np.array([k in exclude for k in keys])
            cost[out[r]] = np.inf
        j = int(np.argmin(cost))
        if not np.isfinite(cost[j]):
            return None
        return float(cost[j]), keys[int(r[j])], int(i[j])

    def remove(self, c: int, d: int) -> tuple[float, Key, int]:
        """Take ``c``'s visit of day ``d`` out: the priced gain, its route and position."""
        k = self.where.pop((c, d))
        self.days_of[c].discard(d)
        rt = self.routes[k]
        v = k[0]
        i = rt.seq.index(c)
        path = [self.fleet.start[v], *rt.seq, self.fleet.end[v]]
        a, b = path[i], path[i + 2]
        q = self._q(c)
        dd = self.dist[a, c] + self.dist[c, b] - self.dist[a, b]
        dt = self.dur[a, c] + self.dur[c, b] - self.dur[a, b] + self.service[c]
        gain = dd + self.excess(k, rt.load, rt.dur) - self.excess(k, rt.load - q, rt.dur - dt)
        rt.seq.pop(i)
        self._changed(d)
        rt.load -= q
        rt.dur -= dt
        rt.dist -= dd
        self.day_load[d] -= q
        return float(gain), k, i

    def insert(self, c: int, k: Key, i: int) -> None:
        """Put a visit to ``c`` at position ``i`` of route ``k``."""
        rt = self.routes[k]
        v = k[0]
        path = [self.fleet.start[v], *rt.seq, self.fleet.end[v]]
        a, b = path[i], path[i + 1]
        rt.seq.insert(i, c)
        self._changed(k[1])
        rt.load += self._q(c)
        rt.dur += self.dur[a, c] + self.dur[c, b] - self.dur[a, b] + self.service[c]
        rt.dist += self.dist[a, c] + self.dist[c, b] - self.dist[a, b]
        self.day_load[k[1]] += self._q(c)
        self.where[(c, k[1])] = k
        self.days_of.setdefault(c, set()).add(k[1])

    def price(self, c: int, p: Pattern, force: bool = False) -> tuple[float, list] | None:
        """With ``c`` out of every route: the priced cost of its visits on the days of ``p`` (each
        where it costs least, plus the pattern's penalty) and those insertions (day, (cost, route,
        position)); None if a day cannot take it (:meth:`best_insert`)."""
        total, ins = p.penalty, []
        for d in p.days:
            b = self.best_insert(c, d, force)
            if b is None:
                return None
            total += b[0]
            ins.append((d, b))
        return total, ins

    def reorder(self, k: Key) -> float:
        """Improve the visit order of route ``k`` by 2-opt and by moving single visits (first
        improvement, until neither finds one) on metres; the new order is kept only if it saves
        metres and its working time stays within the span (or the old time, if that was over).
        Returns the metres saved."""
        rt = self.routes[k]
        v = k[0]
        if len(rt.seq) < 3:  # (two visits: both orders cost the same on symmetric metres)
            return 0.0
        dist = self.dist
        path = [self.fleet.start[v], *rt.seq, self.fleet.end[v]]
        n = len(path)
        saved = 0.0
        improved = True
        while improved:
            improved = False
            for i in range(1, n - 2):  # 2-opt: reverse path[i..j]
                for j in range(i + 1, n - 1):
                    a, b, c, e = path[i - 1], path[i], path[j], path[j + 1]
                    delta = dist[a, c] + dist[b, e] - dist[a, b] - dist[c, e]
                    if delta < -1e-9:
                        path[i:j + 1] = path[i:j + 1][::-1]
                        saved -= delta
                        improved = True
            for i in range(1, n - 1):  # one visit elsewhere in the route
                x = path[i]
                gain = dist[path[i - 1], x] + dist[x, path[i + 1]] - dist[path[i - 1], path[i + 1]]
                rest = path[:i] + path[i + 1:]
                best, at = 1e-9, -1
                for j in range(len(rest) - 1):
                    if j != i - 1 and gain - (dist[rest[j], x] + dist[x, rest[j + 1]] - dist[rest[j], rest[j + 1]]) > best:
                        best, at = gain - (dist[rest[j], x] + dist[x, rest[j + 1]] - dist[rest[j], rest[j + 1]]), j
                if at >= 0:
                    path = rest[:at + 1] + [x] + rest[at + 1:]
                    saved += best
                    improved = True
        if saved <= 1e-9:
            return 0.0
        seq = path[1:-1]  # (metres and time counted again: the matrices need not be symmetric)
        metres = float(sum(dist[a, b] for a, b in zip(path, path[1:])))
        work = float(sum(self.dur[a, b] for a, b in zip(path, path[1:])) + sum(self.service[c] for c in seq))
        span = self.fleet.span[v]
        if metres > rt.dist - 1e-9 or span is not None and work > max(rt.dur, span) + 1e-9:
            return 0.0
        saved = rt.dist - metres
        rt.seq, rt.dur, rt.dist = list(seq), work, metres
        self._changed(k[1])
        return saved

    def seqs(self) -> dict[Key, list[int]]:
        """The current visit sequences (copies)."""
        return {k: list(rt.seq) for k, rt in self.routes.items()}


def penalized_pattern_moves(seqs: Mapping[Key, Sequence[int]], pattern: Mapping[int, Pattern],
                            options: Callable[[int], Sequence[Pattern]], fleet: Fleet, dist: np.ndarray,
                            dur: np.ndarray, service: np.ndarray, demand: np.ndarray | None,
                            order: Sequence[int], *, load_price: float, time_price: float,
                            deadline: Callable[[], bool] = lambda: False,
                            passes: int = 3) -> tuple[dict[Key, list[int]], dict[int, Pattern], int]:
    """Customers of ``order`` (each with several ``options``) move, one at a time, to the
    pattern (and on each of its days to the vehicle and position) where they cost least:
    metres added, plus ``load_price`` per unit of load and ``time_price`` per second of
    working time a route gets beyond its vehicle's, less what the removal from their days
    saves. A day whose vehicles together could not carry its load takes no more. Up to
    ``passes`` passes, until one moves nothing or ``deadline()``.

    A customer whose visits are not on the days of its pattern (as a relaxed joint routing left
    it, or missing visits) always takes the pattern where its visits cost least, if need be on
    days over their load. Returns the new sequences, patterns and the number of customers moved
    to another pattern or completed. ``seqs`` and ``pattern`` are not changed."""
    plan = _Plan(seqs, fleet, dist, dur, service, demand, load_price, time_price)
    pat = dict(pattern)
    moved = 0
    for _ in range(passes):
        changed = 0
        for c in order:
            if deadline():
                return plan.seqs(), pat, moved
            opts = options(c)
            cur = pat.get(c)
            present = sorted(plan.days_of.get(c, ()))
            complete = cur is not None and tuple(present) == tuple(cur.days)
            if not opts or complete and len(opts) < 2:
                continue
            gain = sum(plan.remove(c, d)[0] for d in present)
            best = None
            for force in (False, True):  # a customer not on the days of a pattern must get one
                for p in opts:
                    got = plan.price(c, p, force)
                    if got is not None and (best is None or got[0] < best[0] - 1e-6
                                            or (p is cur and got[0] <= best[0] + 1e-6)):
                        best = (got[0], p, got[1])
                if best is not None or complete:
                    break
            if complete and (best is None or best[0] >= gain + cur.penalty - 1e-6):  # back where it was
                best = (0.0, cur, [(d, plan.best_insert(c, d, force=True)) for d in cur.days])
            for _d, (_cost, k, i) in best[2]:
                plan.insert(c, k, i)
            if best[1] is not cur or not complete:
                pat[c] = best[1]
                moved += 1
                changed += 1
        if not changed:
            break
    return plan.seqs(), pat, moved


def tabu_pattern_search(seqs: Mapping[Key, Sequence[int]], pattern: Mapping[int, Pattern],
                        options: Callable[[int], Sequence[Pattern]], fleet: Fleet, dist: np.ndarray,
                        dur: np.ndarray, service: np.ndarray, demand: np.ndarray | None,
                        movable: Sequence[int], rng: np.random.Generator, *, load_price: float,
                        time_price: float, iterations: int, sample: int = 12, tenure: tuple[int, int] = (5, 15),
                        deadline: Callable[[], bool] = lambda: False, relocate: bool = True,
                        reorder: bool = True, kick: int = 0) -> tuple[dict[Key, list[int]], dict[int, Pattern], int]:
    """A tabu search over the patterns of the ``movable`` customers (each with several
    ``options``, on the days of its pattern), in the manner of Cordeau, Gendreau & Laporte
    (1997): each iteration prices, for ``sample`` customers drawn by ``rng``, every other
    pattern (removal from their days, cheapest insertion on the new ones, excess load and time
    at their prices, a day's load within its vehicles' together) and makes the best move, even
    one that costs more, unless it is tabu: a customer may not return to a pattern it left for a
    number of iterations drawn from ``tenure``. After each move the prices rise by half while
    the plan has excess and fall by a third while it has none (within a factor of 1000 of the
    start), so that the search moves along the edge of feasibility.

    ``relocate``: the moves also take one visit of a sampled customer to another vehicle of the
    same day (cheapest position there), tabu back to the vehicle it left for a while: on tight
    routes a pattern move overloads a route that only a visit moving to another vehicle of the
    day relieves. ``reorder``: the routes a move changed get their order improved
    (:meth:`_Plan.reorder`), so that the metres compared are nearer to what a routing would
    give. Measured at 60 s on Cordeau p10, seeds 1-16 (the engine's rounds, with customers seen
    once movable too): mean 3.00% above the best-known and at worst 4.19%, against 3.57% and
    6.54% with neither (and those customers held).

    ``kick`` > 0: if no plan cheaper than the start is met, the cheapest plan without excess met
    whose patterns differ from the start's for at least ``kick`` customers is returned instead
    (a perturbation: metres counted by insertion are seldom below those of a routed start, so
    once the routing has settled the search rarely returns anything else; the caller re-routes
    it and keeps it only if that is cheaper).

    Returns the sequences and patterns of the cheapest plan without excess met (the start, if
    none is cheaper and there is no kick; metres counted by insertion and :meth:`_Plan.reorder`:
    the caller re-routes them) and the number of customers whose pattern differs from the
    start's. ``seqs`` and ``pattern`` are not changed."""
    plan = _Plan(seqs, fleet, dist, dur, service, demand, load_price, time_price)
    pat = dict(pattern)
    movable = [c for c in movable if c in pat and len(options(c)) > 1
               and tuple(sorted(plan.days_of.get(c, ()))) == tuple(pat[c].days)]
    start = ({k: list(sq) for k, sq in seqs.items()}, dict(pattern), 0)
    if not movable or plan.excess_units() > 1e-9:
        return start
    penalties = float(sum(p.penalty for p in pat.values()))
    best_cost, best = plan.metres() + penalties, None
    fallback_cost, fallback = float("inf"), None  # (kick) the cheapest plan without excess far enough from the start
    away = 0  # movable customers whose pattern is not the start's
    tabu: dict[tuple[int, Pattern | Key], int] = {}  # (customer, pattern or vehicle-day left) -> last tabu iteration
    scale = 1.0  # of the prices
    for it in range(iterations):
        if deadline():
            break
        move = None
        for j in rng.choice(len(movable), size=min(sample, len(movable)), replace=False):
            c = movable[int(j)]
            cur = pat[c]
            removed = [plan.remove(c, d) for d in cur.days]
            gain = sum(r[0] for r in removed) + cur.penalty
            for p in options(c):
                if p is cur or tabu.get((c, p), -1) >= it:
                    continue
                got = plan.price(c, p)
                if got is not None and (move is None or got[0] - gain < move[0] - 1e-9):
                    move = (got[0] - gain, c, p, got[1], None)
            if relocate:  # one visit to another vehicle of its day (not to one it left lately)
                for d, (g, k0, _i) in zip(cur.days, removed):
                    banned = frozenset(k for k in plan.day_keys.get(d, ()) if k == k0 or tabu.get((c, k), -1) >= it)
                    b = plan.best_insert(c, d, force=True, exclude=banned)
                    if b is not None and (move is None or b[0] - g < move[0] - 1e-9):
                        move = (b[0] - g, c, cur, [(d, b)], k0)
            for _g, k, i in removed:  # c back where it was (one visit a route)
                plan.insert(c, k, i)
        if move is None:
            continue
        _delta, c, p, ins, left = move
        cur = pat[c]
        if left is not None:  # a visit to another vehicle of the same day
            (d, (_cost, k, i)), = ins
            plan.remove(c, d)
            plan.insert(c, k, i)
            changed = {left, k}
            tabu[(c, left)] = it + int(rng.integers(tenure[0], tenure[1] + 1))
        else:
            changed = {plan.where[(c, d)] for d in cur.days}
            for d in cur.days:
                plan.remove(c, d)
            for _d, (_cost, k, i) in ins:  # (priced with c out, as now; one visit a route)
                plan.insert(c, k, i)
                changed.add(k)
            pat[c] = p
            away += (p is not pattern[c]) - (cur is not pattern[c])
            penalties += p.penalty - cur.penalty
            tabu[(c, cur)] = it + int(rng.integers(tenure[0], tenure[1] + 1))
        if reorder:
            for k in sorted(changed):
                plan.reorder(k)
        factor = 1.5 if plan.excess_units() > 1e-9 else 1 / 1.5
        scale = min(1000.0, max(0.001, scale * factor))
        plan.load_price, plan.time_price = load_price * scale, time_price * scale
        if factor < 1:  # (no excess)
            cost = plan.metres() + penalties
            if cost < best_cost - 1e-6:
                best_cost, best = cost, (plan.seqs(), dict(pat))
            elif kick and best is None and away >= kick and cost < fallback_cost - 1e-6:
                fallback_cost, fallback = cost, (plan.seqs(), dict(pat))
    best = best or fallback
    if best is None:
        return start
    return best[0], best[1], sum(1 for c in pattern if best[1].get(c) is not pattern[c])
