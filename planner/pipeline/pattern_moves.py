"""Pattern moves priced with penalties: the start of a joint routing that can change patterns.

With a shared fleet over several days and tight vehicles (a periodic VRP), moving a customer to
another pattern seldom fits as routed: the routes of its new days are full, and exact insertion
(:meth:`planner.pipeline.engine._State.improve`) finds no move, although a re-routing of those
days would make room. As in the hybrid genetic search of Vidal et al. (2012), a move may here
overload a route (load or duration) at a price per unit of excess, so long as the day's vehicles
together can still carry its load; the routing engine, started from the moved plan, then repairs
the overloads while it re-routes all days (the caller keeps the result only if it is better).

Works on plain visit sequences (customer indices per (vehicle, day)); distances and durations
are the instance's matrices, customers are their own locations.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

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
    routes: dict[Key, _Route] = {}
    day_keys: dict[int, list[Key]] = {}
    for k, seq in seqs.items():
        v = k[0]
        path = [fleet.start[v], *seq, fleet.end[v]]
        routes[k] = _Route(list(seq), float(sum(demand[c] for c in seq)) if demand is not None else 0.0,
                           float(sum(dur[a, b] for a, b in zip(path, path[1:])) + sum(service[c] for c in seq)),
                           float(sum(dist[a, b] for a, b in zip(path, path[1:]))))
        day_keys.setdefault(k[1], []).append(k)
    day_cap = {d: (sum(fleet.capacity[k[0]] for k in ks) if all(fleet.capacity[k[0]] is not None for k in ks)
                   else None) for d, ks in day_keys.items()}
    day_load = {d: sum(routes[k].load for k in ks) for d, ks in day_keys.items()}
    pat = dict(pattern)
    where: dict[Key, Key] = {}  # (customer, day) -> route key
    days_of: dict[int, set[int]] = {}  # customer -> days it is on
    for k, rt in routes.items():
        for c in rt.seq:
            where[(c, k[1])] = k
            days_of.setdefault(c, set()).add(k[1])

    def excess(k: Key, load: float, time: float) -> float:
        v = k[0]
        cap, span = fleet.capacity[v], fleet.span[v]
        return (load_price * max(0.0, load - cap) if cap is not None else 0.0) + \
            (time_price * max(0.0, time - span) if span is not None else 0.0)

    def best_insert(c: int, d: int, force: bool = False) -> tuple[float, Key, int] | None:
        q = float(demand[c]) if demand is not None else 0.0
        if not force and day_cap.get(d) is not None and day_load[d] + q > day_cap[d] + 1e-9:
            return None
        best = None
        for k in day_keys.get(d, ()):
            rt = routes[k]
            v = k[0]
            path = np.array([fleet.start[v], *rt.seq, fleet.end[v]])
            a, b = path[:-1], path[1:]
            dd = dist[a, c] + dist[c, b] - dist[a, b]
            dt = dur[a, c] + dur[c, b] - dur[a, b] + service[c]
            pen0 = excess(k, rt.load, rt.dur)
            load_pen = excess(k, rt.load + q, 0.0) if fleet.span[v] is None else None
            if load_pen is not None:
                cost = dd + (load_pen - pen0)
            else:
                cost = dd + np.array([excess(k, rt.load + q, rt.dur + t) for t in dt]) - pen0
            i = int(np.argmin(cost))
            if best is None or cost[i] < best[0]:
                best = (float(cost[i]), k, i)
        return best

    def remove(c: int, d: int) -> float:
        k = where.pop((c, d))
        days_of[c].discard(d)
        rt = routes[k]
        v = k[0]
        i = rt.seq.index(c)
        path = [fleet.start[v], *rt.seq, fleet.end[v]]
        a, b = path[i], path[i + 2]
        q = float(demand[c]) if demand is not None else 0.0
        dd = dist[a, c] + dist[c, b] - dist[a, b]
        dt = dur[a, c] + dur[c, b] - dur[a, b] + service[c]
        gain = dd + excess(k, rt.load, rt.dur) - excess(k, rt.load - q, rt.dur - dt)
        rt.seq.pop(i)
        rt.load -= q
        rt.dur -= dt
        rt.dist -= dd
        day_load[d] -= q
        return float(gain)

    def insert(c: int, k: Key, i: int) -> None:
        rt = routes[k]
        v = k[0]
        path = [fleet.start[v], *rt.seq, fleet.end[v]]
        a, b = path[i], path[i + 1]
        q = float(demand[c]) if demand is not None else 0.0
        rt.seq.insert(i, c)
        rt.load += q
        rt.dur += dur[a, c] + dur[c, b] - dur[a, b] + service[c]
        rt.dist += dist[a, c] + dist[c, b] - dist[a, b]
        day_load[k[1]] += q
        where[(c, k[1])] = k
        days_of.setdefault(c, set()).add(k[1])

    moved = 0
    for _ in range(passes):
        changed = 0
        for c in order:
            if deadline():
                return {k: rt.seq for k, rt in routes.items()}, pat, moved
            opts = options(c)
            cur = pat.get(c)
            present = sorted(days_of.get(c, ()))
            complete = cur is not None and tuple(present) == tuple(cur.days)
            if not opts or complete and len(opts) < 2:
                continue
            gain = sum(remove(c, d) for d in present)
            best = None
            for force in (False, True):  # a customer not on the days of a pattern must get one
                for p in opts:
                    total, ins = p.penalty, []
                    for d in p.days:
                        b = best_insert(c, d, force)
                        if b is None:
                            break
                        total += b[0]
                        ins.append((d, b))
                    else:
                        if best is None or total < best[0] - 1e-6 or (p is cur and total <= best[0] + 1e-6):
                            best = (total, p, ins)
                if best is not None or complete:
                    break
            if complete and (best is None or best[0] >= gain + cur.penalty - 1e-6):  # back where it was
                best = (0.0, cur, [(d, best_insert(c, d, force=True)) for d in cur.days])
            for _d, (_cost, k, i) in best[2]:
                insert(c, k, i)
            if best[1] is not cur or not complete:
                pat[c] = best[1]
                moved += 1
                changed += 1
        if not changed:
            break
    return {k: rt.seq for k, rt in routes.items()}, pat, moved
