"""Re-planning with the fewest changes: keep what still holds, place what the new facts require.

A re-plan starts from a stored plan and the current facts (customers added, closed, regraded or
moved; rep absences; fixed appointments) and plans the days from ``from_date`` on again:

* days before ``from_date`` are copied unchanged (only customers deleted since are taken out):
  their visits count for frequency and spacing;
* every customer whose facts did not change and whose visits still fit (its rep is there on
  those days, no appointment contradicts them) keeps its visits, its rep and their order;
* the others are *displaced* and placed anew: new customers, changed ones (frequency, visit
  length, opening hours, location, pin), customers with a visit on a day their rep is now away,
  customers with a new fixed appointment, and visits the previous plan could not make;
* then the engine's improvement and destroy-and-repair run, but every pattern is priced with a
  change cost per visit that would leave its previous day or rep (``change_cost``, in the
  currency of route costs): a visit moves only when the move pays clearly.

The result carries a change report: each visit added, removed, moved or re-timed, with its cause.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Collection, Mapping, Sequence

from planner.domain import (REASON_LOCK_INFEASIBLE, REASON_REP_ABSENT, Lock, Plan, Region, Route, Unassigned,
                            customer_facts, facts_changes)
from planner.evaluation.evaluator import Evaluation, evaluate
from planner.geo.travel import HaversineTravel, TravelMatrix
from planner.pipeline import PlanRejected, to_plan
from planner.pipeline.engine import Engine
from planner.scheduling.instance import build_instance, instance_locations
from planner.scheduling.patterns import Pattern, flexible_patterns
from planner.solver import pyvrp_engine
from planner.solver.ortools_engine import OrToolsEngine

CHANGE_COST = 15.0     # currency units per visit moved to another day or rep (≈ 30 min of a rep's time)
RETIME_MINUTES = 30    # a kept visit whose start moves by at least this much is reported as re-timed
Progress = Callable[[str, float], None]


class ReplanError(ValueError):
    """The re-plan cannot be made as asked (bad date, lock on an unknown customer...)."""


@dataclass(frozen=True)
class Change:
    """One change against the previous plan. ``kind``: added, removed, moved or retimed.
    ``cause``: new_customer, customer_removed, customer_inactive, frequency_change,
    visit_minutes_change, opening_change, location_change, pin_change, allowed_days_change,
    rep_absent, rep_removed, lock, missed_visit, previously_unplanned, unplanned, cost_gain, knock_on."""

    customer_id: str
    kind: str
    cause: str
    detail: str
    old_date: dt.date | None = None
    old_rep: str | None = None
    old_start: dt.datetime | None = None
    new_date: dt.date | None = None
    new_rep: str | None = None
    new_start: dt.datetime | None = None

    def as_dict(self) -> dict:
        """JSON-ready form (ISO dates and times)."""
        out = dataclasses.asdict(self)
        for k, v in out.items():
            if isinstance(v, (dt.date, dt.datetime)):
                out[k] = v.isoformat()
        return out


@dataclass(frozen=True)
class ReplanResult:
    """The new plan, its evaluation, the change report and figures."""

    plan: Plan
    evaluation: Evaluation
    changes: tuple[Change, ...]
    stats: dict


def _visits(plan: Plan, since: dt.date | None = None, before: dt.date | None = None) -> dict[str, dict]:
    """customer -> {date: (rep, start, position, route)} of a plan's visits in [since, before)."""
    out: dict[str, dict] = {}
    for r in plan.routes:
        if (since and r.date < since) or (before and r.date >= before):
            continue
        for i, s in enumerate(r.stops):
            out.setdefault(s.customer_id, {})[r.date] = (r.rep_id, s.start, i, r)
    return out


def _strip_route(route: Route, gone: Collection[str], region: Region, travel: TravelMatrix) -> Route | None:
    """A frozen route without the stops of deleted customers (times kept: removing a stop only
    adds waiting); distance and cost recomputed with the current locations."""
    stops = tuple(s for s in route.stops if s.customer_id not in gone)
    if len(stops) == len(route.stops):
        return route
    if not stops:
        return None
    rep = next((r for r in region.reps if r.id == route.rep_id), None)
    if rep is None:  # the rep left the region since: the day stays as driven, figures as recorded
        return dataclasses.replace(route, stops=stops)
    cust = {c.id: c for c in region.customers}
    pts = [rep.start, *(cust[s.customer_id].location for s in stops), rep.end_location]
    m = travel.get_matrix(pts)
    km = float(sum(m.distance_km[i, i + 1] for i in range(len(pts) - 1)))
    drive = float(sum(m.duration_s[i, i + 1] for i in range(len(pts) - 1))) / 60
    hours = (route.back - route.depart).total_seconds() / 3600
    return dataclasses.replace(route, stops=stops, distance_km=round(km, 3), drive_minutes=round(drive, 2),
                               cost=round(km * rep.cost_per_km + hours * rep.cost_per_hour, 2))


def replan(region: Region, previous: Plan, from_date: dt.date, *, time_limit: float = 30.0, seed: int = 0,
           travel: TravelMatrix | None = None, absences: Mapping[str, Collection[dt.date]] | None = None,
           locks: Sequence[Lock] = (), change_cost: float = CHANGE_COST, progress: Progress | None = None,
           check: bool = True, balance_days: bool = True,
           missed: Collection[tuple[str, dt.date]] = ()) -> ReplanResult:
    """Re-plan ``previous`` from ``from_date`` on under the current ``region`` facts (see the module
    doc). ``absences``: rep id -> dates away. ``locks``: fixed appointments (never moved; an exact
    time or a window is honoured by routing). ``missed``: (customer id, date) of visits before
    ``from_date`` recorded as missed (frequency debt): they do not count as made, and the customer
    is seen again as early as its spacing allows. Raises :class:`ReplanError` for a request that
    cannot be made and :class:`PlanRejected` if ``check`` and the evaluator finds a violation."""
    travel = travel or HaversineTravel()
    absences = {k: frozenset(v) for k, v in (absences or {}).items()}
    if not previous.start <= from_date <= previous.end:
        raise ReplanError(f"--from {from_date} is outside the plan's horizon {previous.start}..{previous.end}")
    first = (from_date - previous.start).days
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    by_id = {c.id: c for c in region.customers}
    active_ids = {c.id for c in customers}
    reps = list(region.reps)
    rep_index = {r.id: i for i, r in enumerate(reps)}
    for lk in locks:
        if lk.customer_id not in active_ids:
            raise ReplanError(f"lock {lk.describe()}: no active customer {lk.customer_id!r}")
        if lk.rep_id is not None and lk.rep_id not in rep_index:
            raise ReplanError(f"lock {lk.describe()}: no rep {lk.rep_id!r}")
        if not from_date <= lk.date <= previous.end:
            raise ReplanError(f"lock {lk.describe()}: the date is not between {from_date} and {previous.end}")
    lock_days: dict[str, list[Lock]] = {}
    for lk in locks:
        lock_days.setdefault(lk.customer_id, []).append(lk)

    # -- the frozen past: copied, without deleted customers
    gone = {cid for r in previous.routes for cid in (s.customer_id for s in r.stops) if cid not in by_id}
    frozen = [fr for fr in (_strip_route(r, gone, region, travel) for r in previous.routes if r.date < from_date)
              if fr is not None]
    history: dict[str, list[int]] = {}
    missed = {(cid, d) for cid, d in missed if d < from_date}
    for r in frozen:
        for s in r.stops:
            if (s.customer_id, r.date) not in missed:
                history.setdefault(s.customer_id, []).append((r.date - previous.start).days)
    owed = sorted({cid for cid, _d in missed if cid in active_ids})
    old_future = _visits(previous, since=from_date)

    # -- the instance over the whole horizon, planning only from ``first`` on
    locs = instance_locations(customers, reps)
    mats = travel.get_matrix(locs)
    windows = {(lk.customer_id, (lk.date - previous.start).days): lk.start_window
               for lk in locks if lk.start_window is not None}
    inst = build_instance(region, previous.start, previous.weeks, mats.distance_km, mats.duration_s, customers,
                          reps, priority=owed, absences=absences, first_day=first, history=history,
                          day_windows=windows)
    cidx = {c.id: i for i, c in enumerate(customers)}

    # -- why each customer would have to change
    cause: dict[int, tuple[str, str]] = {}
    for i, c in enumerate(customers):
        old = old_future.get(c.id, {})
        facts_old = previous.facts.get(c.id)
        facts_new = customer_facts(c, region.policy)
        known = c.id in previous.assignment or c.id in previous.patterns or c.id in old or \
            any(r.date < from_date and any(s.customer_id == c.id for s in r.stops) for r in frozen)
        if not known:
            cause[i] = ("new_customer", "new customer")
            continue
        if c.id in owed:
            cause[i] = ("missed_visit", "a visit was recorded as missed: it is owed")
            continue
        if facts_old is not None and facts_old != facts_new:
            fields = facts_changes(facts_old, facts_new)
            cause[i] = (f"{fields[0]}_change", "changed: " + ", ".join(fields))
            continue
        for d, (rep_id, *_rest) in sorted(old.items()):
            if rep_id not in rep_index:
                cause[i] = ("rep_removed", f"rep {rep_id} is no longer in the region")
                break
            if d in absences.get(rep_id, ()):
                cause[i] = ("rep_absent", f"rep {rep_id} is away on {d}")
                break
            if (d - previous.start).days not in inst.reps[rep_index[rep_id]].day_offset_set:
                cause[i] = ("rep_absent", f"rep {rep_id} does not work on {d}")
                break
        if i in cause:
            continue
        for lk in lock_days.get(c.id, []):
            have = old.get(lk.date)
            if have is None or (lk.rep_id and have[0] != lk.rep_id) or lk.start_window is not None:
                cause[i] = ("lock", f"fixed appointment {lk.describe()}")
                break
        if i in cause:
            continue
        if any(u.customer_id == c.id and (u.date is None or u.date >= from_date) for u in previous.unassigned):
            cause[i] = ("previously_unplanned", "visits the previous plan could not make")

    # -- the patterns each customer may take, priced with the change cost
    near_reps = _candidate_reps(inst, previous, customers, rep_index)
    if inst.ownership:  # account ownership: whoever saw the customer before the re-plan date keeps it
        seen_by: dict[str, str] = {}
        for r in frozen:
            for s in r.stops:
                seen_by[s.customer_id] = r.rep_id
        for i, c in enumerate(customers):
            lock_rep = next((lk.rep_id for lk in lock_days.get(c.id, []) if lk.rep_id), None)
            owner = seen_by.get(c.id)
            if owner in rep_index and not c.rep_id and lock_rep in (None, owner):
                near_reps[i] = [rep_index[owner]]
    custom: dict[tuple[int, int], tuple[Pattern, ...]] = {}
    broken_locks: list[Unassigned] = []
    for i, c in enumerate(customers):
        old = old_future.get(c.id, {})
        old_set = {((d - previous.start).days, rep_index.get(v[0], -1)) for d, v in old.items()}
        prev_days = sorted({d for d, _ in old_set} | set(previous.patterns.get(c.id, ()))) or None
        old_rep = rep_index.get(previous.assignment.get(c.id, ""))
        my_locks = lock_days.get(c.id, [])
        lock_rep = next((lk.rep_id for lk in my_locks if lk.rep_id), None)
        required = [(lk.date - previous.start).days for lk in my_locks]
        for attempt in range(2 if my_locks else 1):
            for r in near_reps[i]:
                if lock_rep is not None and reps[r].id != lock_rep and attempt == 0:
                    continue
                pats = _patterns_for(inst, i, r, history.get(c.id, ()), required, prev_days)
                priced = []
                new_owner = old_rep is not None and r != old_rep and inst.ownership
                for p in pats:  # each visit leaving its day or rep, and a new account owner, is a change
                    moved = len(old_set - {(d, r) for d in p.days}) + (1 if new_owner else 0)
                    early = 2.0 * (p.days[0] - first) / 7 if c.id in owed and p.days else 0.0  # debt: soon
                    priced.append(Pattern(p.days, round(p.penalty + 2.0 * change_cost * moved + early, 3), p.short))
                if priced:
                    custom[(i, r)] = tuple(sorted(priced, key=lambda p: (p.penalty, p.days)))
            if any((i, r) in custom for r in near_reps[i]) or not my_locks:
                break
            # no visit-day pattern can hold the appointments: plan the customer without them, say why
            for lk in my_locks:
                broken_locks.append(Unassigned(c.id, lk.date, REASON_LOCK_INFEASIBLE, _lock_conflict(
                    lk, history.get(c.id, ()), previous.start, region, c, absences)))
            required, lock_rep = [], None
            cause[i] = ("lock", "fixed appointment cannot be kept: planned without it")
    inst = dataclasses.replace(inst, custom_patterns=MappingProxyType(custom))

    # -- the kept part of the previous plan, as the engine's starting point
    rep_of: dict[int, int] = {}
    pattern: dict[int, Pattern] = {}
    for i, c in enumerate(customers):
        if i in cause:
            continue
        old = old_future.get(c.id, {})
        if not old:
            if c.id in previous.assignment and previous.assignment[c.id] in rep_index:
                r = rep_index[previous.assignment[c.id]]
                opts = custom.get((i, r), ())
                if any(not p.days for p in opts):  # nothing due from the re-plan day on
                    rep_of[i] = r
                    pattern[i] = next(p for p in opts if not p.days)
                    continue
            cause[i] = ("knock_on", "no visits left to keep")
            continue
        r = rep_index[next(iter(old.values()))[0]]
        days = tuple(sorted((d - previous.start).days for d in old))
        match = next((p for p in custom.get((i, r), ()) if p.days == days), None)
        if match is None or len({v[0] for v in old.values()}) > 1 and inst.ownership:
            cause[i] = ("frequency_change", "its visits no longer meet the frequency and spacing")
            continue
        rep_of[i] = r
        pattern[i] = match
    sequences: dict[tuple[int, int], list[int]] = {}
    for r in previous.routes:
        if r.date >= from_date and r.rep_id in rep_index:
            key = (rep_index[r.rep_id], (r.date - previous.start).days)
            sequences[key] = [cidx[s.customer_id] for s in r.stops if s.customer_id in cidx
                              and cidx[s.customer_id] in pattern]
    displaced = sorted(cause)
    fast = pyvrp_engine.PyVrpEngine() if pyvrp_engine.available() else None
    missing = frozenset(i for i, c in enumerate(customers) if c.rep_id and c.rep_id not in rep_index)
    eng = Engine(inst, OrToolsEngine(), time_limit=time_limit, seed=seed, progress=progress, missing_pins=missing,
                 balance_days=balance_days, fast_router=fast, fast_supports=pyvrp_engine.supports)
    result = eng.run_warm(rep_of, pattern, sequences, displaced)

    # -- reasons for what could not be planned
    unplanned = []
    lock_keys = {(cidx[lk.customer_id], (lk.date - previous.start).days): lk for lk in locks}
    for c, d, code, reason in result.unplanned:
        cid = customers[c].id
        if d is not None and (c, d) in lock_keys:
            code, reason = REASON_LOCK_INFEASIBLE, (f"the fixed appointment {lock_keys[(c, d)].describe()} cannot be "
                                                    f"kept: {reason}")
        elif d is None and cid in lock_days:
            lk = lock_days[cid][0]
            code, reason = REASON_LOCK_INFEASIBLE, f"the fixed appointment {lk.describe()} cannot be kept: {reason}"
        elif d is None and customers[c].rep_id and absences.get(customers[c].rep_id):
            code, reason = REASON_REP_ABSENT, (f"pinned to rep {customers[c].rep_id}, who is away on every day "
                                               f"a visit could take: {reason}")
        unplanned.append((c, d, code, reason))
    result = dataclasses.replace(result, unplanned=unplanned)

    # -- the new plan: frozen past + re-planned future
    future = to_plan(inst, result, seed=seed, time_limit=time_limit)
    kept_unassigned = tuple(u for u in previous.unassigned
                            if u.date is not None and u.date < from_date and u.customer_id in by_id)
    patterns = {cid: tuple(sorted(set(history.get(cid, ())) | set(future.patterns.get(cid, ()))))
                for cid in set(history) | set(future.patterns) if cid in by_id}
    plan = dataclasses.replace(
        future, routes=tuple(sorted((*frozen, *future.routes), key=lambda r: (r.date, r.rep_id))),
        unassigned=tuple(sorted((*kept_unassigned, *future.unassigned, *broken_locks),
                                key=lambda u: (u.customer_id, u.date or dt.date.min))),
        patterns=MappingProxyType(patterns),
        facts=MappingProxyType({c.id: customer_facts(c, region.policy) for c in customers}),
        parent_id=previous.plan_id, frozen_before=from_date)
    changes = change_report(previous, plan, from_date, region, cause={customers[i].id: v for i, v in cause.items()},
                            travel=travel)
    evaluation = evaluate(region, plan, travel, frozen_before=from_date, previous=previous, absences=absences,
                          locks=locks, missed=missed)
    if check and not evaluation.ok:
        raise PlanRejected(evaluation)
    stats = dict(result.stats)
    stats.update(stability(previous, plan, from_date, {customers[i].id for i in cause}, by_id))
    stats["displaced"] = len(cause)
    return ReplanResult(plan, evaluation, tuple(changes), stats)


def _lock_conflict(lk: Lock, history: Sequence[int], start: dt.date, region: Region, cust, absences) -> str:
    """Why no visit-day pattern can hold the fixed appointment ``lk``."""
    rep_id = lk.rep_id or cust.rep_id
    if rep_id and lk.date in absences.get(rep_id, ()):
        return f"the fixed appointment {lk.describe()} cannot be kept: rep {rep_id} is away that day"
    if history:
        last = start + dt.timedelta(days=max(history))
        freq = region.policy.frequency_of(cust) if cust.allowed_days is None else "its allowed patterns"
        return (f"the fixed appointment {lk.describe()} cannot be kept: a visit on {lk.date} does not fit the "
                f"frequency {freq} after the visit already made on {last} (spacing, visits per period); "
                "the customer is planned without it")
    return (f"the fixed appointment {lk.describe()} cannot be kept: no visit-day pattern of the frequency "
            "holds that day for the rep; the customer is planned without it")


def _candidate_reps(inst, previous: Plan, customers, rep_index) -> list[list[int]]:
    """Reps whose patterns a customer gets: its pinned rep, or (ownership) its previous rep, the
    previous reps of its 8 nearest customers and the 3 nearest homes; all reps for a shared fleet."""
    import numpy as np
    n_reps = len(inst.reps)
    out = []
    for i, c in enumerate(customers):
        if inst.pinned[i] is not None:
            out.append([inst.pinned[i]])
            continue
        if not inst.ownership or n_reps <= 4:
            out.append(list(range(n_reps)))
            continue
        cands = []
        if previous.assignment.get(c.id) in rep_index:
            cands.append(rep_index[previous.assignment[c.id]])
        for j in np.argsort(inst.dur_s[i, : inst.n], kind="stable")[1:9]:
            r = rep_index.get(previous.assignment.get(customers[int(j)].id, ""))
            if r is not None:
                cands.append(r)
        homes = sorted(range(n_reps), key=lambda r: (inst.dur_s[i, inst.start_loc(r)], r))
        cands += homes[:3]
        out.append(sorted(set(cands)))
    return out


def _patterns_for(inst, c: int, r: int, history: Sequence[int], required: Sequence[int],
                  previous: Sequence[int] | None) -> list[Pattern]:
    cust = inst.customers[c]
    rd = inst.reps[r]
    if cust.allowed_days is not None:
        hist = set(history)
        return [Pattern(tuple(d for d in p if d >= inst.first_day)) for p in cust.allowed_days
                if {d for d in p if d < inst.first_day} == hist
                and {d for d in p if d >= inst.first_day} <= rd.day_offset_set and set(required) <= set(p)]
    return flexible_patterns(inst.frequencies[c], inst.start, inst.weeks, rd.rep.workdays, rd.day_offsets,
                             customer_id=cust.id, history=history, first_day=inst.first_day, required=required,
                             previous=previous)


def _detour_minutes(route: Route, cid: str, region: Region, travel: TravelMatrix) -> float:
    """Driving minutes ``cid`` adds to ``route`` (current locations)."""
    cust = {c.id: c for c in region.customers}
    rep = next((r for r in region.reps if r.id == route.rep_id), None)
    ids = [s.customer_id for s in route.stops]
    if rep is None or cid not in ids or any(x not in cust for x in ids):
        return 0.0
    k = ids.index(cid)
    prev = rep.start if k == 0 else cust[ids[k - 1]].location
    nxt = rep.end_location if k == len(ids) - 1 else cust[ids[k + 1]].location
    m = travel.get_matrix([prev, cust[cid].location, nxt])
    return float(m.duration_s[0, 1] + m.duration_s[1, 2] - m.duration_s[0, 2]) / 60


def change_report(previous: Plan, plan: Plan, from_date: dt.date, region: Region, *,
                  cause: Mapping[str, tuple[str, str]], travel: TravelMatrix) -> list[Change]:
    """Every visit from ``from_date`` on that was added, removed, moved (day or rep) or re-timed
    (start moved by ``RETIME_MINUTES`` or more), with its cause: the customer's own (``cause``),
    or for an unchanged customer the driving it saves (``cost_gain``) or, when it saves nothing,
    a knock-on of other changes (``knock_on``)."""
    old = _visits(previous, since=from_date)
    new = _visits(plan, since=from_date)
    by_id = {c.id: c for c in region.customers}
    out: list[Change] = []
    for cid in sorted(set(old) | set(new)):
        o, n = old.get(cid, {}), new.get(cid, {})
        c = by_id.get(cid)
        if c is None:
            why = ("customer_removed", "customer deleted")
        elif not c.active:
            why = ("customer_inactive", "customer deactivated")
        else:
            why = cause.get(cid)
        removed = sorted(d for d in o if d not in n or n[d][0] != o[d][0])
        added = sorted(d for d in n if d not in o or o[d][0] != n[d][0])
        if why is None and (removed or added):
            gain = sum(_detour_minutes(o[d][3], cid, region, travel) for d in removed) - \
                sum(_detour_minutes(n[d][3], cid, region, travel) for d in added)
            why = ("cost_gain", f"saves {gain:.0f} min of driving") if gain > 0.5 else \
                ("knock_on", "moved to make room for other changes")
        period = region.policy.frequency_of(c).period_days if c is not None and c.allowed_days is None else 7
        pairs = []
        for d in list(removed):  # a removed and an added visit of the same block: one move
            block = (d - previous.start).days // period
            match = next((a for a in added if (a - previous.start).days // period == block), None)
            if match is not None:
                pairs.append((d, match))
                removed.remove(d)
                added.remove(match)
        for d, a in pairs:
            out.append(Change(cid, "moved", why[0], why[1], d, o[d][0], o[d][1], a, n[a][0], n[a][1]))
        for d in removed:
            out.append(Change(cid, "removed", why[0] if why else "unplanned", why[1] if why else "",
                              d, o[d][0], o[d][1]))
        for a in added:
            out.append(Change(cid, "added", why[0] if why else "unplanned", why[1] if why else "",
                              new_date=a, new_rep=n[a][0], new_start=n[a][1]))
        for d in sorted(set(o) & set(n)):
            if o[d][0] == n[d][0] and abs((n[d][1] - o[d][1]).total_seconds()) >= RETIME_MINUTES * 60:
                w = why or ("knock_on", "re-timed by changes on the same day")
                out.append(Change(cid, "retimed", w[0], w[1], d, o[d][0], o[d][1], d, n[d][0], n[d][1]))
    return out


def stability(previous: Plan, plan: Plan, from_date: dt.date, changed: Collection[str],
              region_customers: Mapping) -> dict:
    """Share of the unchanged customers' visits (from ``from_date`` on, in the previous plan) that
    the new plan keeps on the same day with the same rep."""
    old = _visits(previous, since=from_date)
    new = _visits(plan, since=from_date)
    total = kept = 0
    for cid, vs in old.items():
        c = region_customers.get(cid)
        if cid in changed or c is None or not c.active:
            continue
        for d, v in vs.items():
            total += 1
            kept += d in new.get(cid, {}) and new[cid][d][0] == v[0]
    return {"unchanged_visits": total, "kept_visits": kept,
            "kept_share": round(kept / total, 4) if total else 1.0}


def lock_issue(region: Region, plan: Plan, lock: Lock,
               absences: Mapping[str, Collection[dt.date]]) -> tuple[str, str] | None:
    """Why ``lock`` cannot be placed on ``plan``, as ``(field, message)`` (None if it can).

    ``field`` names what is wrong: ``customer_id`` (unknown or inactive customer), ``date``
    (outside the plan's horizon; the rep does not work or is away that day), ``rep_id`` (unknown
    rep, or the customer is pinned to another one) or ``time`` (outside the rep's working hours).
    ``absences``: rep id -> dates away."""
    try:
        cust = region.customer(lock.customer_id)
    except KeyError:
        return "customer_id", f"no customer {lock.customer_id!r}"
    if not cust.active:
        return "customer_id", f"customer {cust.id} is inactive"
    if not plan.start <= lock.date <= plan.end:
        return "date", f"{lock.date} is outside the plan's horizon {plan.start}..{plan.end}"
    rep_id = lock.rep_id or cust.rep_id or plan.assignment.get(cust.id)
    if lock.rep_id and cust.rep_id and lock.rep_id != cust.rep_id:
        return "rep_id", f"customer {cust.id} is pinned to rep {cust.rep_id}, not {lock.rep_id}"
    if rep_id is not None:
        rep = next((r for r in region.reps if r.id == rep_id), None)
        if rep is None:
            return "rep_id", f"no rep {rep_id!r}"
        if not rep.works_on(lock.date):
            return "date", f"rep {rep_id} does not work on {lock.date:%A} {lock.date}"
        if lock.date in absences.get(rep_id, ()):
            return "date", f"rep {rep_id} is away on {lock.date}"
        win = lock.start_window
        if win is not None and (win[1] < rep.work_start or win[0] >= rep.work_end):
            return "time", f"the appointment time is outside rep {rep_id}'s working hours"
    return None


def lock_problem(region: Region, plan: Plan, lock: Lock,
                 absences: Mapping[str, Collection[dt.date]]) -> str | None:
    """Why ``lock`` cannot be placed on ``plan`` (None if it can): the message of :func:`lock_issue`."""
    issue = lock_issue(region, plan, lock, absences)
    return issue[1] if issue else None


__all__ = ["CHANGE_COST", "Change", "ReplanError", "ReplanResult", "change_report", "lock_issue", "lock_problem",
           "replan", "stability"]
