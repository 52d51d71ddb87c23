"""Account ownership: which rep sees which customer, balanced by workload and compact.

Each customer carries a workload: by default its visit time over the horizon plus an allowance
for the drive to it (:func:`customer_workload`); callers may give one workload per customer and
rep, and a workload per rep (the territory design of :mod:`planner.scheduling.territory_design`
calibrates them on routed day tours). Reps get a share of the total workload proportional to
their working hours (the rules' "divide routes by number of customers", weighted by time).

The split is a balanced districting in the manner of Hess et al. (1965), on travel times:

1. *Centres*: each territory has a centre, at first the reps' homes (or, given a ``start``
   assignment, the medoids of its territories).
2. *Compactness cost* of customer ``c`` in territory ``r``: its workload share × the squared
   drive, ``home_weight`` × from the rep's home + the rest × from the territory's centre
   (:func:`compactness_cost`; both directions averaged). Squared drives weighted by workload
   make the balanced territories the cells of a power diagram: one price per rep shifts the
   boundaries, and boundaries stay straight (on the plane), so no territory reaches into
   another's.
3. *Balanced assignment* (:func:`balanced_assignment`): each customer goes to the candidate rep
   of least cost + the rep's price × the customer's workload; the prices are the duals of the
   linear programme "least cost with every rep's workload within ±``tolerance`` of its share"
   (OR-Tools' GLOP), then adjusted where whole customers leave a load outside the band;
   customers on a boundary move across it where loads are still outside; last, a customer
   none of whose 4 nearest customers shares its territory (a boundary through a dense spot)
   joins its neighbours' territory, swapped with a boundary customer if balance needs it.
4. *Re-centre*: each territory's centre becomes its medoid (the member with the least total
   drive to the others); steps 2-4 repeat ``rounds`` times, so territories become compact
   around where the work is, not only around homes.

So a customer sits outside the territory with the nearest centre only when balance needs it.
Customers with a single eligible rep (pins) always stay with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from ortools.linear_solver import pywraplp

from planner.scheduling.instance import PlanningInstance

HOME_WEIGHT = 1.0 / 3.0   # share of the compactness cost that is drive from the rep's home
SQUARE_UNIT_S = 600.0     # squared drives are divided by 10 minutes: a 10-minute drive costs 600
CANDIDATES = 8            # cheapest eligible reps per customer offered to the LP
NEIGHBOURS = 6            # nearest customers that make a customer a boundary customer
ENCLAVE_K = 4             # a customer none of whose 4 nearest customers shares its territory is an enclave
BALANCE_FIRST = 10.0      # band violation per average customer workload costs 10 x the cost range


@dataclass(frozen=True)
class Territories:
    """Rep index per customer (-1: none eligible) and each rep's workload share (seconds)."""

    rep_of: np.ndarray
    target_load: np.ndarray
    load: np.ndarray


def travel_allowance(inst: PlanningInstance) -> np.ndarray:
    """Seconds of driving per visit allowed for each customer: the mean drive to its 4 nearest
    other customers (a density measure; 0 for a lone customer)."""
    d = inst.dur_s[: inst.n, : inst.n].astype(float)
    if inst.n <= 1:
        return np.zeros(inst.n)
    k = min(4, inst.n - 1)
    return np.partition(d + np.eye(inst.n) * 1e12, k, axis=1)[:, :k].mean(axis=1)


def customer_workload(inst: PlanningInstance, visits: np.ndarray) -> np.ndarray:
    """Seconds of work per customer over the horizon: visits × (visit length + drive allowance)."""
    return visits * (inst.service_s + travel_allowance(inst))


def symmetric_times(inst: PlanningInstance) -> np.ndarray:
    """Drive seconds between all locations, averaged over both directions (float)."""
    d = inst.dur_s.astype(float)
    return (d + d.T) / 2.0


def capacity_seconds(inst: PlanningInstance) -> np.ndarray:
    """Working seconds (lunch excluded) of each rep over the horizon's usable days."""
    return np.array([r.capacity_s * len(r.day_offsets) for r in inst.reps], dtype=float)


def territory_centres(inst: PlanningInstance, rep_of: np.ndarray, sym: np.ndarray | None = None) -> np.ndarray:
    """Location index of each territory's centre: the medoid of its customers (the member with
    the least total drive to the others, both directions averaged), or the rep's home when the
    territory is empty."""
    sym = symmetric_times(inst) if sym is None else sym
    out = np.array([inst.start_loc(r) for r in range(len(inst.reps))], dtype=int)
    for r in range(len(inst.reps)):
        members = np.flatnonzero(rep_of == r)
        if len(members):
            out[r] = members[int(np.argmin(sym[np.ix_(members, members)].sum(axis=1)))]
    return out


def compactness_cost(inst: PlanningInstance, centres: np.ndarray, home_weight: float = HOME_WEIGHT,
                     sym: np.ndarray | None = None) -> np.ndarray:
    """(customers × reps) ``home_weight`` × the squared drive from the rep's home + the rest ×
    the squared drive from the territory's centre (location indices ``centres``), both
    directions averaged, divided by :data:`SQUARE_UNIT_S` (so a 10-minute drive costs 600, a
    20-minute one 2,400)."""
    sym = symmetric_times(inst) if sym is None else sym
    n, m = inst.n, len(inst.reps)
    homes = np.array([inst.start_loc(r) for r in range(m)], dtype=int)
    return (home_weight * sym[:n][:, homes] ** 2 + (1.0 - home_weight) * sym[:n][:, centres] ** 2) / SQUARE_UNIT_S


def assign_territories(inst: PlanningInstance, eligible: Sequence[Sequence[int]], visits: np.ndarray,
                       rounds: int = 4, slack: float = 1.05, *, weight: np.ndarray | None = None,
                       start: np.ndarray | None = None, extra_cost: np.ndarray | None = None,
                       offset: np.ndarray | None = None, home_weight: float = HOME_WEIGHT,
                       candidates: int = CANDIDATES) -> Territories:
    """Assign every customer to one of its eligible reps (pins are singletons in ``eligible``).

    ``visits``: visits per customer over the horizon. Workloads stay within ``slack`` (1.05:
    ±5%) of each rep's share of the total where pins and eligibility allow. ``weight``: the
    workload of each customer, (customers,) or per rep (customers × reps); default
    :func:`customer_workload`. ``start``: an assignment (rep index per customer, -1 for none)
    whose territories' medoids are the first centres, instead of the homes. ``extra_cost``:
    (customers × reps) added to the compactness cost (:func:`compactness_cost` × the customer's
    workload over the mean workload), e.g. a price on changing a customer's rep. ``offset``:
    workload of each rep that comes with the territory, not with one customer (e.g. the part of
    its routed driving the customers' workloads leave out); it counts in the balance. ``load``
    in the result includes it. See the module doc for the method.
    """
    n, m = inst.n, len(inst.reps)
    if weight is None:
        weight = customer_workload(inst, visits)
    w = np.asarray(weight, dtype=float)
    if w.ndim == 1:
        w = np.repeat(w[:, None], m, axis=1)
    cap = capacity_seconds(inst)
    share = cap / cap.sum() if cap.sum() > 0 else np.full(m, 1.0 / max(1, m))
    elig = np.zeros((n, m), dtype=bool)
    for c, reps in enumerate(eligible):
        elig[c, list(reps)] = True
    if m <= 1:  # nothing to split
        rep_of = np.where(elig.any(axis=1), 0, -1) if m else np.full(n, -1, dtype=int)
        load = np.array([w[rep_of == r, r].sum() for r in range(m)]) + (0.0 if offset is None else offset)
        return Territories(rep_of, load.sum() * share, load)
    sym = symmetric_times(inst)
    if start is not None and np.any(np.asarray(start) >= 0):
        centres = territory_centres(inst, np.asarray(start), sym)
    else:
        centres = np.array([inst.start_loc(r) for r in range(m)], dtype=int)
    rep_of = np.full(n, -1, dtype=int)
    neighbours = nearest_customers(sym[:n, :n], NEIGHBOURS)
    scale = np.where(elig, w, 0.0).sum(axis=1) / np.maximum(1, elig.sum(axis=1))   # workload, eligible reps
    scale = scale / scale.mean() if n and scale.mean() > 0 else np.ones(n)
    scale = np.maximum(scale, 0.1)   # customers without visits in the horizon still belong somewhere
    for _ in range(max(1, rounds)):
        cost = compactness_cost(inst, centres, home_weight, sym) * scale[:, None]
        if extra_cost is not None:
            cost = cost + extra_cost
        rep_of = balanced_assignment(cost, w, cap, elig, tolerance=slack - 1.0, candidates=candidates,
                                     offset=offset, neighbours=neighbours)
        centres = territory_centres(inst, rep_of, sym)
    load = np.array([w[rep_of == r, r].sum() for r in range(m)])
    if offset is not None:
        load = load + offset
    return Territories(rep_of, load.sum() * share, load)


# ----------------------------------------------------------------------------------------------
# The balanced assignment
# ----------------------------------------------------------------------------------------------
def balanced_assignment(cost: np.ndarray, weight: np.ndarray, capacity: np.ndarray, eligible: np.ndarray, *,
                        tolerance: float = 0.05, candidates: int = CANDIDATES,
                        offset: np.ndarray | None = None,
                        neighbours: np.ndarray | None = None) -> np.ndarray:
    """Rep index per customer (-1 where ``eligible`` has no rep) of low ``cost`` (customers ×
    reps) with each rep's load (``offset[r]`` + the sum of ``weight[c, r]`` over its customers)
    within ±``tolerance`` of ``capacity[r] / capacity.sum()`` × the total load.

    Every free customer goes to the candidate rep (its ``candidates`` cheapest eligible reps) of
    least ``cost[c, r] + price[r] × weight[c, r]``: one price per rep, so boundaries between
    territories stay clean (with costs proportional to the customer's weight, as
    :func:`assign_territories` makes them, the territories are the cells of a power diagram).
    The prices are the duals of the linear programme "least cost with every load in the band"
    (GLOP; leaving the band costs :data:`BALANCE_FIRST` × the cost range per average customer
    workload, so balance comes first), then adjusted one rep at a time where the discrete
    customers leave a load outside the band: an overloaded rep's price rises until its first
    customer prefers another rep, an underloaded rep's falls until the first customer of
    another rep prefers it (the best state seen is kept). Last, where loads are still outside
    the band (single customers are a few percent of a territory), customers on a boundary —
    with one of their ``neighbours`` (customers × k nearest customers) in the other territory —
    move to that territory when that brings loads back, those nearest the priced
    boundary (least extra ``cost + price × weight``) first (:func:`_boundary_repair`). And a
    customer none of whose :data:`ENCLAVE_K` nearest customers shares its territory (a
    boundary through a dense spot) joins its neighbours' territory, swapped if need be with a
    customer of that territory on the boundary with its own (:func:`_absorb_enclaves`).
    Customers with a single eligible rep are fixed.
    """
    n, m = cost.shape
    rep_of = np.full(n, -1, dtype=int)
    n_elig = eligible.sum(axis=1)
    single = np.flatnonzero(n_elig == 1)
    rep_of[single] = np.argmax(eligible[single], axis=1)
    free = np.flatnonzero(n_elig > 1)
    if len(free) == 0 or m <= 1:
        return rep_of
    share = capacity / capacity.sum() if capacity.sum() > 0 else np.full(m, 1.0 / m)
    masked = np.where(eligible, cost, np.inf)
    width = min(max(1, candidates), m)
    cmat = np.argsort(masked[free], axis=1, kind="stable")[:, :width]
    cmat = np.where(eligible[free[:, None], cmat], cmat, -1)          # -1: fewer eligible reps than the width
    finite = masked[free[:, None], np.maximum(cmat, 0)][cmat >= 0]
    spread = float(finite.max() - finite.min())
    mean_w = float(weight[free, cmat[:, 0]].mean())
    penalty = BALANCE_FIRST * max(spread, 1.0) / (mean_w if mean_w > 0 else 1.0)
    base = np.zeros(m) if offset is None else np.asarray(offset, dtype=float).copy()
    np.add.at(base, rep_of[single], weight[single, rep_of[single]])
    price = _lp_prices(free, cmat, cost, weight, base, share, tolerance, penalty)
    safe = np.maximum(cmat, 0)
    adjusted = np.where(cmat >= 0, cost[free[:, None], safe] + price[safe] * weight[free[:, None], safe], np.inf)
    rep_of[free] = cmat[np.arange(len(free)), np.argmin(adjusted, axis=1)]
    _price_repair(rep_of, free, cmat, cost, weight, base, share, tolerance, price)
    if neighbours is not None:
        adjusted_cost = cost + price[None, :] * weight
        _boundary_repair(rep_of, free, cmat, adjusted_cost, weight, base, share, tolerance, penalty, neighbours)
        _absorb_enclaves(rep_of, free, cmat, adjusted_cost, weight, base, share, tolerance, neighbours)
    return rep_of


def _lp_prices(free: np.ndarray, cmat: np.ndarray, cost: np.ndarray, weight: np.ndarray, base: np.ndarray,
               share: np.ndarray, tol: float, penalty: float) -> np.ndarray:
    """Per rep, the price of a second of its load: minus the dual of its load in the LP
    relaxation (least cost + ``penalty`` × load outside the band; ``base``: loads already
    there), so that the LP's customers are at their least ``cost + price × weight``."""
    m = len(share)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    infinity = solver.infinity()
    total = solver.NumVar(0.0, infinity, "total")
    over = [solver.NumVar(0.0, infinity, f"o{r}") for r in range(m)]
    under = [solver.NumVar(0.0, infinity, f"u{r}") for r in range(m)]
    # load_r - (1 + tol) share_r total - over_r <= -base_r ; load_r - (1 - tol) share_r total + under_r >= -base_r
    hi = [solver.Constraint(-infinity, -float(base[r])) for r in range(m)]
    lo = [solver.Constraint(-float(base[r]), infinity) for r in range(m)]
    tot = solver.Constraint(float(base.sum()), float(base.sum()))   # total - sum(loads of free) = sum(base)
    tot.SetCoefficient(total, 1.0)
    objective = solver.Objective()
    for r in range(m):
        hi[r].SetCoefficient(total, -(1.0 + tol) * float(share[r]))
        hi[r].SetCoefficient(over[r], -1.0)
        lo[r].SetCoefficient(total, -(1.0 - tol) * float(share[r]))
        lo[r].SetCoefficient(under[r], 1.0)
        objective.SetCoefficient(over[r], penalty)
        objective.SetCoefficient(under[r], penalty)
    for i, c in enumerate(free):
        one = solver.Constraint(1.0, 1.0)
        for r in cmat[i]:
            if r < 0:
                continue
            x = solver.NumVar(0.0, 1.0, "")
            one.SetCoefficient(x, 1.0)
            wcr = float(weight[c, r])
            hi[r].SetCoefficient(x, wcr)
            lo[r].SetCoefficient(x, wcr)
            tot.SetCoefficient(x, -wcr)
            objective.SetCoefficient(x, float(cost[c, r]))
    objective.SetMinimization()
    if solver.Solve() not in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE):  # pragma: no cover
        return np.zeros(m)   # the LP always has a solution (slack variables): plain nearest centres
    # reduced cost of x_cr = cost_cr - dual(one_c) - w_cr (dual(hi_r) + dual(lo_r) - dual(tot))
    return np.array([-(hi[r].dual_value() + lo[r].dual_value() - tot.dual_value()) for r in range(m)])


def _price_repair(rep_of: np.ndarray, free: np.ndarray, cmat: np.ndarray, cost: np.ndarray, weight: np.ndarray,
                  base: np.ndarray, share: np.ndarray, tol: float, price: np.ndarray) -> None:
    """Adjust the prices of reps whose load is outside the band, one customer at a time, keeping
    every free customer at its least ``cost + price × weight`` (in place; see
    :func:`balanced_assignment`). Stops when every load is in the band, when no rep outside it
    can change, or after ``2 × reps + 20`` steps without a better state (discrete customers can
    make two reps hand one back and forth); the state of least violation (then cost) wins."""
    m = len(share)
    f = len(free)
    load = base.copy()
    np.add.at(load, rep_of[free], weight[free, rep_of[free]])
    safe = np.maximum(cmat, 0)
    c_cost = np.where(cmat >= 0, cost[free[:, None], safe], np.inf)
    c_w = np.where(cmat >= 0, weight[free[:, None], safe], 1.0)
    col = np.argmax(cmat == rep_of[free][:, None], axis=1)      # column of each row's current rep
    cur = rep_of[free].copy()
    with_rep = [np.flatnonzero((cmat == r).any(axis=1)) for r in range(m)]
    col_of_rep = [np.argmax(cmat[rows] == r, axis=1) for r, rows in enumerate(with_rep)]
    total_cost = float(c_cost[np.arange(f), col].sum())

    def violation() -> float:
        total = load.sum()
        return float(np.maximum(0.0, load - (1 + tol) * share * total).sum()
                     + np.maximum(0.0, (1 - tol) * share * total - load).sum())

    best = (violation(), total_cost, cur.copy())
    stuck: set[int] = set()
    idle = 0
    while idle < 2 * m + 20:
        total = load.sum()
        over = load - (1 + tol) * share * total
        under = (1 - tol) * share * total - load
        worst = np.maximum(over, under)
        worst[list(stuck)] = 0.0
        r = int(np.argmax(worst))
        if worst[r] <= 1e-9 * max(total, 1.0):
            break
        if over[r] >= under[r]:
            # raise r's price until one of its customers prefers another candidate rep
            rows = np.flatnonzero(cur == r)
            here = c_cost[rows, col[rows]]
            w_here = c_w[rows, col[rows]]
            divisor = np.where(w_here > 0, w_here, 1.0)[:, None]
            t = (c_cost[rows] + price[safe[rows]] * c_w[rows] - here[:, None]) / divisor
            t[(cmat[rows] == r) | (cmat[rows] < 0) | (w_here <= 0)[:, None]] = np.inf   # no workload: no price moves it
            if not len(rows) or not np.isfinite(t).any():
                stuck.add(r)
                continue
            i, k = divmod(int(np.argmin(t)), t.shape[1])
            row, k_new, new_price = int(rows[i]), k, float(t[i, k])
        else:
            # lower r's price until a customer of another rep prefers r
            rows, cols = with_rep[r], col_of_rep[r]
            keep = cur[rows] != r
            rows, cols = rows[keep], cols[keep]
            keep = c_w[rows, cols] > 0
            rows, cols = rows[keep], cols[keep]
            if not len(rows):
                stuck.add(r)
                continue
            there = c_cost[rows, col[rows]] + price[cur[rows]] * c_w[rows, col[rows]]
            t = (there - c_cost[rows, cols]) / c_w[rows, cols]
            i = int(np.argmax(t))
            row, k_new, new_price = int(rows[i]), int(cols[i]), float(t[i])
        c = int(free[row])
        old, new = int(cur[row]), int(cmat[row, k_new])
        price[r] = new_price
        load[old] -= weight[c, old]
        load[new] += weight[c, new]
        total_cost += float(c_cost[row, k_new] - c_cost[row, col[row]])
        cur[row], col[row] = new, k_new
        rep_of[c] = new
        stuck.clear()
        state = (violation(), total_cost)
        if state < best[:2]:
            best = (*state, cur.copy())
            idle = 0
        else:
            idle += 1
    rep_of[free] = best[2]


def _boundary_repair(rep_of: np.ndarray, free: np.ndarray, cmat: np.ndarray, cost: np.ndarray,
                     weight: np.ndarray, base: np.ndarray, share: np.ndarray, tol: float, penalty: float,
                     neighbours: np.ndarray, max_passes: int = 50) -> None:
    """Moves of boundary customers to a neighbouring territory that lower the loads' band
    violation (in place).

    A free customer may move to a candidate rep that owns one of its ``neighbours``. Each pass
    prices every such move on cost + ``penalty`` × violation and applies those that lower the
    violation, the least extra cost per unit of workload first, each re-priced on the loads as
    they are then (a customer moves at most once a pass). Swaps are not tried: two neighbours
    changing sides make the boundary zig-zag."""
    n, m = len(rep_of), len(share)
    load = base.copy()
    np.add.at(load, rep_of[free], weight[free, rep_of[free]])
    allowed = np.zeros((n, m), dtype=bool)
    for i, c in enumerate(free):
        allowed[c, cmat[i][cmat[i] >= 0]] = True
    nb = neighbours[free]                                   # (free, k) nearest customers

    def viol(r: np.ndarray, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.maximum(0.0, x - hi[r]) + np.maximum(0.0, lo[r] - x)

    def move_viol(c: int, r: int, s: int, lo: np.ndarray, hi: np.ndarray) -> float:
        pair = np.array([r, s])
        after = load[pair] + np.array([-weight[c, r], weight[c, s]])
        return float(viol(pair, after, lo, hi).sum() - viol(pair, load[pair], lo, hi).sum())

    for _ in range(max_passes):
        total = float(load.sum())
        lo, hi = (1.0 - tol) * share * total, (1.0 + tol) * share * total
        if not (viol(np.arange(m), load, lo, hi) > 1e-9 * max(total, 1.0)).any():
            break
        changed: set[int] = set()
        # moves to the territory of a neighbour
        c_all = np.repeat(free, nb.shape[1])
        s_all = rep_of[nb.ravel()]
        r_all = rep_of[c_all]
        ok = (s_all >= 0) & (s_all != r_all) & allowed[c_all, np.maximum(s_all, 0)]
        c_all, s_all, r_all = c_all[ok], s_all[ok], r_all[ok]
        dv = (viol(r_all, load[r_all] - weight[c_all, r_all], lo, hi) - viol(r_all, load[r_all], lo, hi)
              + viol(s_all, load[s_all] + weight[c_all, s_all], lo, hi) - viol(s_all, load[s_all], lo, hi))
        extra = cost[c_all, s_all] - cost[c_all, r_all]
        good = np.flatnonzero((dv < -1e-9) & (extra + penalty * dv < -1e-9))
        for k in good[np.lexsort((c_all[good], extra[good] / np.maximum(weight[c_all[good], s_all[good]], 1e-9)))]:
            c, s = int(c_all[k]), int(s_all[k])
            r = int(rep_of[c])
            if c in changed or r == s:
                continue
            d_v = move_viol(c, r, s, lo, hi)
            if d_v < -1e-9 and cost[c, s] - cost[c, r] + penalty * d_v < -1e-9:
                load[r] -= weight[c, r]
                load[s] += weight[c, s]
                rep_of[c] = s
                changed.add(c)
        if not changed:
            break


def _absorb_enclaves(rep_of: np.ndarray, free: np.ndarray, cmat: np.ndarray, cost: np.ndarray,
                     weight: np.ndarray, base: np.ndarray, share: np.ndarray, tol: float,
                     neighbours: np.ndarray, passes: int = 3) -> None:
    """Free enclave customers join the territory most of their :data:`ENCLAVE_K` nearest
    customers belong to (in place): moved when the band violation does not grow, else swapped
    with a free customer of that territory one of whose :data:`ENCLAVE_K` nearest customers is
    in the enclave's old territory (the one keeping loads closest to the band, then the
    cheapest by ``cost``), when the violation does not grow."""
    n, m = len(rep_of), len(share)
    load = base.copy()
    np.add.at(load, rep_of[free], weight[free, rep_of[free]])
    allowed = np.zeros((n, m), dtype=bool)
    for i, c in enumerate(free):
        allowed[c, cmat[i][cmat[i] >= 0]] = True
    k = min(ENCLAVE_K, neighbours.shape[1])

    def violation(x: np.ndarray) -> float:
        total = x.sum()
        return float(np.maximum(0.0, x - (1 + tol) * share * total).sum()
                     + np.maximum(0.0, (1 - tol) * share * total - x).sum())

    for _ in range(passes):
        changed = False
        for c in free:
            c = int(c)
            r = int(rep_of[c])
            near = [int(x) for x in neighbours[c, :k] if x != c]
            owners = rep_of[near]
            if not near or np.any(owners == r) or np.any(owners < 0):
                continue
            counts = np.bincount(owners, minlength=m)
            s = int(np.argmax(counts))                   # ties: the lower index (stable)
            if not allowed[c, s]:
                continue
            now = violation(load)
            moved = load.copy()
            moved[r] -= weight[c, r]
            moved[s] += weight[c, s]
            if violation(moved) <= now + 1e-9:
                load[:] = moved
                rep_of[c] = s
                changed = True
                continue
            best: tuple[float, float, int] | None = None
            for d in np.flatnonzero((rep_of == s) & allowed[:, r]):
                d = int(d)
                near_d = [int(x) for x in neighbours[d, :k] if x != c and x != d]
                if d == c or not np.any(rep_of[near_d] == r):    # d would be an enclave in r
                    continue
                swapped = moved.copy()
                swapped[s] -= weight[d, s]
                swapped[r] += weight[d, r]
                key = (violation(swapped), float(cost[d, r] - cost[d, s]), d)
                if best is None or key < best:
                    best = key
            if best is not None and best[0] <= now + 1e-9:
                d = best[2]
                load[:] = moved
                load[s] -= weight[d, s]
                load[r] += weight[d, r]
                rep_of[c], rep_of[d] = s, r
                changed = True
        if not changed:
            break


def nearest_customers(sym: np.ndarray, k: int) -> np.ndarray:
    """(customers × k) indices of each customer's ``k`` nearest other customers by ``sym``
    (customers × customers), nearest first; fewer customers: padded with the customer itself."""
    n = sym.shape[0]
    if n <= 1:
        return np.arange(n)[:, None].repeat(max(k, 1), axis=1)
    kk = min(k, n - 1)
    dd = sym + np.eye(n) * 1e18
    part = np.argpartition(dd, kk - 1, axis=1)[:, :kk]
    part = np.take_along_axis(part, np.argsort(np.take_along_axis(dd, part, axis=1), axis=1, kind="stable"), axis=1)
    if kk < k:
        part = np.hstack([part, np.repeat(np.arange(n)[:, None], k - kk, axis=1)])
    return part
