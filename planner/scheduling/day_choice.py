"""Choosing one visit-day pattern per customer for a rep: balanced days, geographically tight.

Estimates only (routing comes after and improvement then uses routed costs): adding customer
``c`` to day ``d`` costs about 1.5 × the drive from ``c`` to the nearest place already on that
day (another customer or the rep's home). A day's load is visit time plus these estimates.
The choice minimises, over the pattern's days, estimated drive + a penalty on load above the
rep's average day + a steep penalty near the day's capacity (and on visit caps, and on the
morning or afternoon half being over-full with customers only open then) + the pattern's
preference penalty (uneven 2/week spacing). Customers with fewest options go first; then
two rounds of remove-and-reinsert.
"""
from __future__ import annotations

from typing import Sequence


from planner.scheduling.instance import PlanningInstance
from planner.scheduling.patterns import Pattern

NOON = 12 * 3600 + 30 * 60
HARD = 1e7
PREFERENCE_S = 600.0   # one unit of pattern penalty weighs like 10 minutes of driving
FILL = 0.9             # plan days to at most 90% of their working time (estimates are rough)


def choose_patterns(inst: PlanningInstance, r: int, customers: Sequence[int],
                    options: dict[int, list[Pattern]], fixed: dict[int, Pattern] | None = None,
                    passes: int = 2, fleet_size: int = 1) -> dict[int, Pattern]:
    """Pick a pattern for each of rep ``r``'s ``customers`` among ``options[c]``.

    ``fleet_size`` > 1: the days are shared by that many vehicles like rep ``r`` (a shared
    fleet): capacities scale with it, and loads (demand) must fit the fleet's capacity.
    """
    rd = inst.reps[r]
    home = inst.start_loc(r)
    cap = rd.capacity_s * FILL * fleet_size
    load_cap = rd.capacity * fleet_size * 0.97 if rd.capacity is not None and inst.demand is not None else None
    demand = {d: 0 for d in rd.day_offsets}
    morning_cap = (min(NOON, rd.day.work_end) - rd.day.work_start) * FILL * fleet_size
    afternoon_cap = (rd.day.work_end - max(NOON, rd.day.work_start)) * FILL * fleet_size
    members: dict[int, list[int]] = {d: [] for d in rd.day_offsets}
    load = {d: 0.0 for d in rd.day_offsets}
    half = {d: [0.0, 0.0] for d in rd.day_offsets}
    side = {}
    for c in {*customers, *(fixed or {})}:
        wins = inst.start_windows(c, r)
        if wins and wins[-1][1] + inst.service_s[c] <= NOON:
            side[c] = 0
        elif wins and wins[0][0] >= NOON:
            side[c] = 1
        else:
            side[c] = -1
    total = sum(len(options[c][0].days) * (inst.service_s[c] + 900) for c in customers if options[c])
    target = total / max(1, len(rd.day_offsets))
    maxv = rd.day.max_visits * fleet_size if rd.day.max_visits is not None else None
    chosen: dict[int, Pattern] = {}

    def est(c: int, d: int) -> float:
        ms = members[d]
        near = inst.dur_s[c, home] if not ms else min(inst.dur_s[c, home], inst.dur_s[c, ms].min())
        return 1.5 * float(near)

    def add(c: int, p: Pattern, sign: int) -> None:
        for d in p.days:
            if sign > 0:
                inc = est(c, d) + inst.service_s[c]
                members[d].append(c)
            else:
                members[d].remove(c)
                inc = est(c, d) + inst.service_s[c]
            load[d] += sign * inc
            if load_cap is not None:
                demand[d] += sign * int(inst.demand[c])
            if side[c] >= 0:
                half[d][side[c]] += sign * float(inst.service_s[c])

    def cost(c: int, p: Pattern) -> float:
        total_cost = p.penalty * PREFERENCE_S
        for d in p.days:
            e = est(c, d)
            inc = e + inst.service_s[c]
            total_cost += e + 2.0 * max(0.0, load[d] + inc - target)
            if load[d] + inc > cap:
                total_cost += HARD
            if maxv is not None and len(members[d]) + 1 > maxv:
                total_cost += HARD
            if load_cap is not None and demand[d] + inst.demand[c] > load_cap:
                total_cost += HARD
            if side[c] == 0 and half[d][0] + inst.service_s[c] > morning_cap:
                total_cost += HARD / 10
            if side[c] == 1 and half[d][1] + inst.service_s[c] > afternoon_cap:
                total_cost += HARD / 10
        return total_cost

    for c, p in (fixed or {}).items():
        chosen[c] = p
        add(c, p, +1)
    order = sorted((c for c in customers if c not in chosen and options[c]),
                   key=lambda c: (c not in inst.priority, len(options[c]), -len(options[c][0].days),
                                  -int(inst.service_s[c]), c))
    for c in order:
        best = min(options[c], key=lambda p: cost(c, p))
        chosen[c] = best
        add(c, best, +1)
    for _ in range(passes):
        changed = False
        for c in order:
            cur = chosen[c]
            add(c, cur, -1)
            best = min(options[c], key=lambda p: (cost(c, p), p != cur))
            chosen[c] = best
            add(c, best, +1)
            changed |= best != cur
        if not changed:
            break
    return chosen
