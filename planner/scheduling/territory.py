"""Account ownership: which rep sees which customer, balanced by workload and compact.

Each customer's workload is its visit time over the horizon plus an allowance for the drive
to it. Reps get a share of the total workload proportional to their working hours (the rules'
"divide routes by number of customers", weighted by time). The assignment is a regret-ordered
greedy with capacities (nearest feasible rep first, customers whose second choice is much
worse go first), followed by rounds that re-centre each territory on its customers and
re-assign, so that territories become compact around where the work is, not only around
homes. Pinned customers always stay with their rep.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from planner.scheduling.instance import PlanningInstance


@dataclass(frozen=True)
class Territories:
    """Rep index per customer (-1: none eligible) and each rep's workload share (seconds)."""

    rep_of: np.ndarray
    target_load: np.ndarray
    load: np.ndarray


def customer_workload(inst: PlanningInstance, visits: np.ndarray) -> np.ndarray:
    """Seconds of work per customer over the horizon: visits × (visit length + drive allowance)."""
    d = inst.dur_s[: inst.n, : inst.n].astype(float)
    if inst.n > 1:
        k = min(4, inst.n - 1)
        near = np.partition(d + np.eye(inst.n) * 1e12, k, axis=1)[:, :k].mean(axis=1)
    else:
        near = np.zeros(inst.n)
    return visits * (inst.service_s + near)


def assign_territories(inst: PlanningInstance, eligible: Sequence[Sequence[int]], visits: np.ndarray,
                       rounds: int = 4, slack: float = 1.05) -> Territories:
    """Assign every customer to one of its eligible reps (pins are singletons in ``eligible``)."""
    n, m = inst.n, len(inst.reps)
    work = customer_workload(inst, visits)
    cap = np.array([r.capacity_s * len(r.day_offsets) for r in inst.reps], dtype=float)
    total = work.sum()
    target = total * cap / cap.sum() if cap.sum() > 0 else np.zeros(m)
    homes = np.array([inst.start_loc(r) for r in range(m)], dtype=int)
    dist_to = inst.dur_s[:n][:, homes].astype(float)          # customer -> rep home (s)
    elig = np.full((n, m), False)
    for c, reps in enumerate(eligible):
        elig[c, list(reps)] = True
    rep_of = np.full(n, -1, dtype=int)
    cost = dist_to.copy()
    for it in range(rounds + 1):
        rep_of = _greedy(cost, elig, work, target * slack, inst.pinned)
        if it == rounds:
            break
        # re-centre: cost = half the way from home, half from the territory's medoid
        centre_cost = np.zeros_like(cost)
        for r in range(m):
            members = np.flatnonzero(rep_of == r)
            if len(members) == 0:
                centre_cost[:, r] = dist_to[:, r]
                continue
            sub = inst.dur_s[np.ix_(members, members)]
            medoid = members[int(np.argmin(sub.sum(axis=1)))]
            centre_cost[:, r] = inst.dur_s[:n, medoid]
        cost = 0.5 * dist_to + centre_cost
    load = np.array([work[rep_of == r].sum() for r in range(m)])
    return Territories(rep_of, target, load)


def _greedy(cost: np.ndarray, elig: np.ndarray, work: np.ndarray, limit: np.ndarray,
            pinned: Sequence[int | None]) -> np.ndarray:
    n, m = cost.shape
    masked = np.where(elig, cost, np.inf)
    rep_of = np.full(n, -1, dtype=int)
    load = np.zeros(m)
    for c in range(n):  # pins first, whatever the load
        if pinned[c] is not None and elig[c, pinned[c]]:
            rep_of[c] = pinned[c]
            load[pinned[c]] += work[c]
    free = [c for c in range(n) if rep_of[c] < 0 and np.isfinite(masked[c]).any()]
    if not free:
        return rep_of
    srt = np.sort(masked[free], axis=1)
    second = np.where(np.isfinite(srt[:, 1]) if m > 1 else False, srt[:, 1] if m > 1 else 0, srt[:, 0] * 3 + 1e6)
    regret = second - srt[:, 0]
    order = [free[i] for i in np.lexsort((np.array(free), -regret))]
    for c in order:
        choices = np.argsort(masked[c], kind="stable")
        placed = False
        for r in choices:
            if not np.isfinite(masked[c, r]):
                break
            if load[r] + work[c] <= limit[r]:
                rep_of[c] = r
                load[r] += work[c]
                placed = True
                break
        if not placed:  # everyone is full: least relative overload among the eligible
            ok = np.flatnonzero(np.isfinite(masked[c]))
            r = ok[int(np.argmin((load[ok] + work[c]) / np.maximum(limit[ok], 1)))]
            rep_of[c] = r
            load[r] += work[c]
    return rep_of
