"""The planning engine: eligibility, territories, patterns, routing, repair, improvement.

1. *Eligibility*: a customer can be seen by a rep if some opening window fits the visit inside
   the rep's day, the frequency has a pattern on the rep's workdays, and a lone visit from the
   rep's home fits in a day (with lunch). Pins restrict to the pinned rep. Customers with no
   eligible rep are reported with the reason.
2. *Territories* (:mod:`planner.scheduling.territory`) and *patterns*
   (:mod:`planner.scheduling.day_choice`) from estimates.
3. *Routing*: every rep-day is routed by the routing engine (OR-Tools), visits that cannot fit
   are dropped; times are then recomputed exactly by the timeline.
4. *Repair*: a customer with a dropped visit moves to another pattern, or another rep, where
   every visit of the pattern fits (exact insertion); else the visit is reported with a reason.
5. *Improvement with routed costs*: customers change pattern, and unpinned ones change rep, when
   removal gains on the routed days exceed exact insertion costs; workloads stay balanced.
6. *Polish*: the changed days are re-optimised by the routing engine, warm-started.

All choices are ordered and seeded, so the result is the same for the same input and seed;
the time limit caps the work (it splits between the phases).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from planner.domain import (REASON_BAD_FREQUENCY, REASON_CAPACITY, REASON_NO_WINDOW,
                            REASON_PINNED_REP_MISSING, REASON_UNREACHABLE)
from planner.scheduling.day_choice import choose_patterns
from planner.scheduling.instance import PlanningInstance
from planner.scheduling.patterns import Pattern
from planner.scheduling.territory import assign_territories
from planner.pipeline.routes import DayRoute, best_insertion, make_route, removal
from planner.solver.problem import (BreakSpec, RoutingEngine, RoutingProblem, SearchOptions,
                                    VehicleSpec)
from planner.solver.timeline import schedule_day

Progress = Callable[[str, float], None]
DROP_PENALTY = 10 ** 11
COST_SCALE = 100  # engine cost units per currency unit per metre (cost_per_km * 100 per metre)


@dataclass
class EngineResult:
    """What the engine decided: owner and pattern per customer, routes, unplanned visits."""

    rep_of: dict[int, int]
    pattern: dict[int, Pattern]
    routes: dict[tuple[int, int], DayRoute]
    unplanned: list[tuple[int, int | None, str, str]] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


class Engine:
    """Plans one instance with a routing engine under a time limit and seed."""

    def __init__(self, inst: PlanningInstance, router: RoutingEngine, *, time_limit: float = 30.0,
                 seed: int = 0, progress: Progress | None = None, missing_pins: frozenset[int] = frozenset(),
                 deterministic: bool = False):
        self.inst = inst
        self.deterministic = deterministic
        self.router = router
        self.time_limit = time_limit
        self.seed = seed
        self.progress = progress or (lambda stage, frac: None)
        self.missing_pins = missing_pins
        self.rng = np.random.default_rng(seed)
        self.dist_m = np.rint(inst.dist_km * 1000).astype(np.int64)
        self.t0 = time.monotonic()

    # ------------------------------------------------------------------ helpers
    def _elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _eligibility(self) -> tuple[list[list[int]], dict[tuple[int, int], list[Pattern]], list]:
        inst = self.inst
        eligible: list[list[int]] = []
        options: dict[tuple[int, int], list[Pattern]] = {}
        unplanned = []
        for c in range(inst.n):
            reps = [inst.pinned[c]] if inst.pinned[c] is not None else list(range(len(inst.reps)))
            ok, why = [], None
            if c in self.missing_pins:
                why = (REASON_PINNED_REP_MISSING,
                       f"pinned to rep {inst.customers[c].rep_id}, who is not among the planned reps")
            for r in ([] if why else reps):
                pats = inst.patterns(c, r)
                if not pats:
                    why = why or (REASON_BAD_FREQUENCY,
                                  f"frequency {inst.frequencies[c]} cannot be met on the workdays of rep "
                                  f"{inst.reps[r].rep.id} without consecutive days")
                    continue
                if not inst.start_windows(c, r):
                    why = (REASON_NO_WINDOW, f"no opening window fits a {inst.service_s[c] // 60}-minute "
                                             f"visit inside rep {inst.reps[r].rep.id}'s working hours")
                    continue
                if schedule_day([inst.visit(c, r)], inst.reps[r].day, inst.dur_s) is None:
                    why = (REASON_UNREACHABLE, f"a visit from rep {inst.reps[r].rep.id}'s start cannot "
                                               "be done and driven back within one working day")
                    continue
                ok.append(r)
                options[(c, r)] = pats
            eligible.append(ok)
            if not ok:
                code, reason = why or (REASON_CAPACITY, "no rep available")
                unplanned.append((c, None, code, reason))
        return eligible, options, unplanned

    def _day_problem(self, r: int, members: list[int]) -> RoutingProblem:
        inst = self.inst
        rd = inst.reps[r]
        day = rd.day
        brk = (BreakSpec(day.lunch_duration, day.lunch_earliest, day.lunch_latest_end - day.lunch_duration)
               if day.has_lunch else None)
        veh = VehicleSpec(start_loc=day.start_loc, end_loc=day.end_loc, earliest_start=day.work_start,
                          latest_end=day.work_end, max_visits=day.max_visits, brk=brk,
                          cost_per_unit=max(1, round(rd.cost_per_km * COST_SCALE)),
                          cost_per_second=round(rd.cost_per_second * COST_SCALE * 1000))
        return RoutingProblem(
            distance=self.dist_m, duration=inst.dur_s, visit_loc=tuple(members),
            service=tuple(int(inst.service_s[c]) for c in members),
            start_windows=tuple(inst.start_windows(c, r) for c in members),
            vehicles=(veh,), penalty=tuple(DROP_PENALTY for _ in members))

    def route_day(self, r: int, members: list[int], *, guided: bool = False, budget: float = 1.0,
                  initial: list[int] | None = None) -> tuple[DayRoute, list[int]]:
        """Route ``members`` on rep ``r``'s day; returns the route and the dropped customers."""
        if not members:
            return make_route(self.inst, r, []), []
        problem = self._day_problem(r, members)
        if self.deterministic:  # searches end by count or local optimum, never by the clock
            budget = 60.0
        opts = SearchOptions(time_limit=budget, guided=guided, seed=self.seed,
                             solution_limit=(100 if self.deterministic else 200) if guided else None,
                             initial_routes=[[members.index(c) for c in initial]] if initial else None)
        sol = self.router.solve(problem, opts)
        seq = [members[i] for i in sol.routes[0]] if sol.routes else []
        dropped = [members[i] for i in sol.dropped]
        route = make_route(self.inst, r, seq)
        while route is None and seq:  # engine and timeline disagree: drop the costliest visit
            worst = max(seq, key=lambda c: self.inst.service_s[c])
            seq.remove(worst)
            dropped.append(worst)
            route = make_route(self.inst, r, seq)
        return route, dropped

    # ------------------------------------------------------------------ phases
    def run(self) -> EngineResult:
        """Plan the instance."""
        inst = self.inst
        self.progress("eligibility", 0.02)
        eligible, options, unplanned = self._eligibility()
        visits = np.array([len(options[(c, eligible[c][0])][0].days) if eligible[c] else 0
                           for c in range(inst.n)], dtype=float)
        self.progress("territories", 0.05)
        terr = assign_territories(inst, eligible, visits)
        rep_of = {c: int(terr.rep_of[c]) for c in range(inst.n) if terr.rep_of[c] >= 0}
        self.progress("patterns", 0.10)
        pattern: dict[int, Pattern] = {}
        for r in range(len(inst.reps)):
            mine = [c for c, rr in rep_of.items() if rr == r]
            pattern.update(choose_patterns(inst, r, mine, {c: options[(c, r)] for c in mine}))
        # route every rep-day
        routes: dict[tuple[int, int], DayRoute] = {}
        dropped: list[tuple[int, int]] = []
        keys = [(r, d) for r in range(len(inst.reps)) for d in inst.reps[r].day_offsets]
        day_members: dict[tuple[int, int], list[int]] = {k: [] for k in keys}
        for c, p in sorted(pattern.items()):
            for d in p.days:
                day_members[(rep_of[c], d)].append(c)
        per_route = max(0.05, 0.3 * self.time_limit / max(1, len(keys)))
        for i, k in enumerate(keys):
            route, drop = self.route_day(k[0], day_members[k], budget=per_route)
            routes[k] = route
            dropped.extend((c, k[1]) for c in drop)
            if i % 10 == 0:
                self.progress("routing", 0.10 + 0.35 * i / max(1, len(keys)))
        state = _State(self, options, eligible, rep_of, pattern, routes, terr.target_load)
        self.progress("repair", 0.45)
        state.repair(dropped)
        self.progress("improvement", 0.55)
        never = float("inf")
        state.improve(deadline=never if self.deterministic else self.t0 + 0.8 * self.time_limit)
        self.progress("polish", 0.85)
        state.polish(deadline=never if self.deterministic else self.t0 + 0.97 * self.time_limit)
        state.reinsert_unplanned()
        unplanned.extend(state.unplanned)
        self.progress("done", 1.0)
        return EngineResult(state.rep_of, state.pattern, state.routes, unplanned,
                            {"seconds": round(self._elapsed(), 2), **state.stats})


class _State:
    """Search state over routed days."""

    def __init__(self, eng: Engine, options, eligible, rep_of, pattern, routes, target_load):
        self.eng = eng
        self.inst = eng.inst
        self.options = options
        self.eligible = eligible
        self.rep_of = rep_of
        self.pattern = pattern
        self.routes = routes
        self.changed: set[tuple[int, int]] = set()
        self.unplanned: list[tuple[int, int | None, str, str]] = []
        self.stats = {"pattern_moves": 0, "rep_moves": 0, "repaired": 0, "polished": 0}
        self.work = self._workloads()
        cap = np.array([r.capacity_s * len(r.day_offsets) for r in self.inst.reps], dtype=float)
        self.target = self.work.sum() * cap / max(cap.sum(), 1.0)

    def _workloads(self) -> np.ndarray:
        w = np.zeros(len(self.inst.reps))
        for (r, _d), rt in self.routes.items():
            if rt.seq:
                w[r] += rt.timeline.back - rt.timeline.depart
        return w

    def _visit_days(self, c: int) -> list[int]:
        r = self.rep_of[c]
        return [d for d in self.pattern[c].days if c in self.routes[(r, d)].seq]

    def _try_place(self, c: int, r: int, p: Pattern, skip: set[int] = frozenset()) -> tuple[float, dict] | None:
        """Exact cost of inserting ``c`` on every day of ``p`` for rep ``r`` (days in ``skip``
        already hold it). Returns (cost increase, new routes) or None if a day cannot take it."""
        total = 0.0
        new = {}
        for d in p.days:
            if d in skip:
                continue
            ins = best_insertion(self.inst, r, self.routes[(r, d)], c)
            if ins is None:
                return None
            total += ins[0]
            new[(r, d)] = ins[1]
        return total, new

    def _remove(self, c: int) -> tuple[float, dict]:
        r = self.rep_of[c]
        gain = 0.0
        new = {}
        for d in self._visit_days(c):
            g, nr = removal(self.inst, r, self.routes[(r, d)], c)
            gain += g
            new[(r, d)] = nr
        return gain, new

    def _apply(self, new: dict) -> None:
        for k, rt in new.items():
            old = self.routes[k]
            self.work[k[0]] += (rt.timeline.back - rt.timeline.depart if rt.seq else 0) - (
                old.timeline.back - old.timeline.depart if old.seq else 0)
            rt.version = old.version + 1
            self.routes[k] = rt
            self.changed.add(k)

    def _alternatives(self, c: int, allow_rep_change: bool):
        reps = [self.rep_of[c]]
        if allow_rep_change and self.inst.pinned[c] is None:
            near = self._neighbour_reps(c)
            reps += [r for r in near if r != self.rep_of[c] and r in self.eligible[c]]
        for r in reps:
            for p in self.options[(c, r)]:
                yield r, p

    def _neighbour_reps(self, c: int, k: int = 6) -> list[int]:
        inst = self.inst
        order = np.argsort(inst.dur_s[c, : inst.n], kind="stable")[1: k + 1]
        out = []
        for o in order:
            r = self.rep_of.get(int(o))
            if r is not None and r not in out:
                out.append(r)
        return out

    def repair(self, dropped: list[tuple[int, int]]) -> None:
        """Re-place customers whose visits were dropped by routing; report what cannot be."""
        by_c: dict[int, list[int]] = {}
        for c, d in dropped:
            by_c.setdefault(c, []).append(d)
        for c in sorted(by_c, key=lambda c: (c not in self.inst.priority, c)):
            missing = set(by_c[c])
            gain, rem = self._remove(c)
            best = None
            for r, p in self._alternatives(c, allow_rep_change=True):
                saved = {k: self.routes[k] for k in rem}
                self.routes.update(rem)
                placed = self._try_place(c, r, p)
                self.routes.update(saved)
                if placed is not None:
                    score = placed[0] - gain + p.penalty
                    if best is None or score < best[0]:
                        best = (score, r, p, placed[1])
            if best is not None:
                self._apply(rem)
                self._apply(best[3])
                self.rep_of[c], self.pattern[c] = best[1], best[2]
                self.stats["repaired"] += 1
                continue
            # keep the visits that were routed, try each missing day once more, report the rest
            r = self.rep_of[c]
            for d in sorted(missing):
                ins = best_insertion(self.inst, r, self.routes[(r, d)], c, tries=20)
                if ins is not None:
                    self._apply({(r, d): ins[1]})
                    continue
                rt = self.routes[(r, d)]
                hours = (rt.timeline.back - rt.timeline.depart) / 3600 if rt.seq else 0
                self.unplanned.append((c, d, REASON_CAPACITY,
                                       f"rep {self.inst.reps[r].rep.id}'s day is full ({len(rt.seq)} visits, "
                                       f"{hours:.1f} h) and no other pattern or rep can take all visits"))

    def _relocate_other(self, c: int, r: int, d: int) -> bool:
        """Make room for ``c`` on rep ``r``'s day ``d`` by moving one other customer of that day
        entirely to another of its patterns (same rep); apply and return True if it works."""
        route = self.routes[(r, d)]
        cands = sorted(route.seq, key=lambda x: (-int(self.inst.service_s[x]), x))
        for x in cands:
            gain, rem = self._remove(x)
            saved = {k: self.routes[k] for k in rem}
            self.routes.update(rem)
            ins_c = best_insertion(self.inst, r, self.routes[(r, d)], c, tries=len(route.seq) + 1)
            if ins_c is not None:
                self.routes[(r, d)] = ins_c[1]
                for p in self.options[(x, r)]:
                    if p == self.pattern[x] or d in p.days:
                        continue
                    placed = self._try_place(x, r, p)
                    if placed is not None:
                        self.routes.update(saved)
                        self._apply(rem)
                        self._apply({(r, d): ins_c[1]})
                        self._apply(placed[1])
                        self.pattern[x] = p
                        self.stats["repaired"] += 1
                        return True
            self.routes.update(saved)
        return False

    def reinsert_unplanned(self) -> None:
        """Last chance for each unplanned visit: direct insertion at any position, else making
        room by moving one customer of that day to another pattern. The reasons left are
        recomputed from the final routes."""
        left = []
        for c, d, code, reason in self.unplanned:
            if d is None or code != REASON_CAPACITY:
                left.append((c, d, code, reason))
                continue
            r = self.rep_of[c]
            rt = self.routes[(r, d)]
            ins = best_insertion(self.inst, r, rt, c, tries=len(rt.seq) + 1)
            if ins is not None:
                self._apply({(r, d): ins[1]})
                self.stats["repaired"] += 1
                continue
            if self._relocate_other(c, r, d):
                continue
            rt = self.routes[(r, d)]
            hours = (rt.timeline.back - rt.timeline.depart) / 3600 if rt.seq else 0
            left.append((c, d, REASON_CAPACITY,
                         f"no room on rep {self.inst.reps[r].rep.id}'s day ({len(rt.seq)} visits, {hours:.1f} h "
                         f"of work): the visit fits no position within its opening hours, the working day and "
                         f"lunch, and no other visit of that day can move to make room"))
        self.unplanned = left

    def improve(self, deadline: float) -> None:
        """Pattern-change and rep-change moves priced on routed days; first improvement."""
        inst = self.inst
        customers = sorted(self.rep_of)
        order = [int(c) for c in self.eng.rng.permutation(customers)]
        partial = {u[0] for u in self.unplanned}
        for _pass in range(4):
            improved = False
            for c in order:
                if time.monotonic() > deadline:
                    return
                if c in partial:
                    continue
                cur_r, cur_p = self.rep_of[c], self.pattern[c]
                gain, rem = self._remove(c)
                saved = {k: self.routes[k] for k in rem}
                self.routes.update(rem)
                best = None
                for r, p in self._alternatives(c, allow_rep_change=True):
                    if r == cur_r and p == cur_p:
                        continue
                    if r != cur_r:
                        extra = sum(inst.service_s[c] for _ in p.days)
                        if self.work[r] + extra > 1.10 * self.target[r] + 1:
                            continue
                    placed = self._try_place(c, r, p)
                    if placed is None:
                        continue
                    delta = placed[0] - gain + (p.penalty - cur_p.penalty) * 0.5
                    if delta < -1e-6 and (best is None or delta < best[0]):
                        best = (delta, r, p, placed[1])
                self.routes.update(saved)
                if best is not None:
                    self._apply(rem)
                    self._apply(best[3])
                    if best[1] != cur_r:
                        self.stats["rep_moves"] += 1
                    else:
                        self.stats["pattern_moves"] += 1
                    self.rep_of[c], self.pattern[c] = best[1], best[2]
                    improved = True
            if not improved:
                return

    def polish(self, deadline: float) -> None:
        """Re-optimise every routed day with the routing engine, warm-started; keep if cheaper."""
        keys = sorted(k for k, rt in self.routes.items() if len(rt.seq) > 2)
        for i, k in enumerate(keys):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            budget = max(0.02, min(1.0, left / max(1, len(keys) - i))) if left != float("inf") else 1.0
            rt = self.routes[k]
            new, dropped = self.eng.route_day(k[0], list(rt.seq), guided=True, budget=budget, initial=rt.seq)
            if not dropped and new is not None and new.cost < rt.cost - 1e-9:
                self._apply({k: new})
                self.stats["polished"] += 1
