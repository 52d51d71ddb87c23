"""The planning engine: eligibility, territories, patterns, routing, repair, improvement.

1. *Eligibility*: a customer can be seen by a rep if some opening window fits the visit inside
   the rep's day, the frequency (or its explicit patterns) has a pattern on the rep's workdays,
   and a lone visit from the rep's start fits in a day (with lunch). Pins restrict to the
   pinned rep. Customers with no eligible rep are reported with the reason.
2. *Territories* (:mod:`planner.scheduling.territory`, with account ownership) and *patterns*
   (:mod:`planner.scheduling.day_choice`) from estimates. With a shared fleet (no ownership,
   as in the periodic VRP) patterns are chosen for the whole fleet.
3. *Routing*: every rep-day (or, shared, every day with all its vehicles) is routed by a routing
   engine; visits that cannot fit are dropped; times are then recomputed exactly by the timeline.
   Days with a lunch break are routed without it first (:meth:`Engine.route_day`). A shared fleet
   over several days is routed as one problem when the fast engine can state it
   (:meth:`Engine._route_days_jointly`): a customer seen once is one visit that any vehicle of its
   allowed days may make, so its day is chosen with the routes; customers seen more often first
   choose their days the same way (k-th visit on the k-th day of any pattern; heavy ones excepted;
   only with time enough per visit: :func:`relax_pays`; with little time per visit, the joint
   routings search a narrower neighbourhood with a short late-acceptance history:
   :func:`search_narrow`); those whose days form no pattern then take
   the one nearest to them, half at a time with the others still free in a joint routing between
   (:meth:`Engine._settle`), and the missing visits are inserted before a joint routing completes
   the plan. Pattern moves and destroy-and-repair (skipped while it gains less per second) then
   alternate with joint routings started from the patterns a short tabu search over them reached
   from the current plan (moves that cost more made too), or, when that moved nothing after a
   routing that gained almost nothing, from pattern moves that may overload routes at a price
   (:mod:`planner.pipeline.pattern_moves`). With time enough per visit (:func:`restarts_pay`)
   all this runs twice, each run with its own seed in half the time, and the better plan is kept.
4. *Repair*: a customer with a dropped visit moves to another pattern, or another rep, where
   every visit of the pattern fits (exact insertion); else the visit is reported with a reason.
5. *Improvement with routed costs*: customers change pattern, and unpinned ones change rep, when
   removal gains on the routed days exceed exact insertion costs; workloads stay balanced (each
   day near its rep's current average day: :meth:`_State.rebalance`).
6. *Polish*: routed days are re-optimised by the routing engine, warm-started; polish and
   destroy-and-repair alternate while time remains. Destroy-and-repair removes customers from
   all their days and puts them back by exact insertion; with account ownership, the days it
   changed get their visit order improved before the state is judged, each round ends with
   pattern and rep moves, and a polish runs only while it gains as fast as destroy-and-repair.

All choices are ordered and seeded. ``deterministic`` replaces every clock limit by counts.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

import numpy as np

from planner.domain import (REASON_CAPACITY, REASON_REP_ABSENT)
from planner.pipeline.pattern_moves import Fleet, penalized_pattern_moves, tabu_pattern_search
from planner.pipeline.routes import (DayRoute, best_insertion, improve_order, insertion_estimate, make_route,
                                     removal, route_legs)
from planner.scheduling.day_choice import choose_patterns
from planner.scheduling.eligibility import eligibility
from planner.scheduling.instance import PlanningInstance
from planner.scheduling.patterns import Pattern
from planner.scheduling.territory import assign_territories
from planner.solver.problem import (BreakSpec, RoutingEngine, RoutingProblem, SearchOptions,
                                    VehicleSpec, without_breaks)

Progress = Callable[[str, float], None]
Key = tuple[int, int]


class JointRouting(NamedTuple):
    """What a joint routing of all days gives (:meth:`Engine._route_days_jointly`)."""

    routes: dict[Key, DayRoute]
    pattern: dict[int, Pattern]
    loose: list[int]
    """Relaxed customers whose days formed none of their patterns, now given their nearest one
    (their visits on its other days taken out, the missing ones not yet added)."""
    relaxed: list[int]
    """Relaxed customers left so for a later round (``settle`` < 1): their visits stay on the
    days the routing gave them, which form none of their patterns."""
DROP_PENALTY = 10 ** 11
COST_SCALE = 100  # engine cost units per currency unit per metre (cost_per_km * 100 per metre)
NEVER = float("inf")
THRESHOLD = 0.03  # destroy-and-repair accepts states up to 3% worse than the best at first
ACCEPT_ROUTES = 20  # ... of plans up to this many busy routes; beyond, that share shrinks (acceptance_share)
ACCEPT_ITERS = 32  # ... and of phases long enough for this many iterations per customer; shorter, it shrinks
BALANCE = 1.2  # with account ownership, a day may hold at most 1.2 x the rep's average day
ROUTE_DESTROY = 0.2  # share of destroy steps that empty a whole route (shared fleet)
ROUTE_DESTROY_OWNED = 0.05  # ... with account ownership (they gain about 5x less per second than the others)
ROUTE_MOVES = True  # with ownership, destroy-and-repair improves the order of the days it changed
WORST_SEED = 0.5  # with ownership, share of the other destroy steps seeded by a worst-placed customer
EXACT_CANDIDATES = 6  # (rep, pattern) alternatives priced exactly per customer; the rest by estimate
JOINT_SHARE = 0.4  # shared fleet over several days: share of the time for the first routing of all days as one
JOINT_FIRST = 0.25  # problem (of which the relaxed routing takes this share, then rounds settling the patterns),
JOINT_ROUND = 0.15  # then for each joint routing started from the current plan, after
JOINT_LNS = 0.08  # that share of destroy-and-repair
JOINT_RELAX = True  # the first joint routing also lets customers seen several times choose their days,
RELAX_SECONDS_PER_VISIT = 0.06  # ... when the time limit gives at least this much per visit (relax_pays)
SETTLE = 0.5  # ... those whose days form none of their patterns: share given their nearest pattern per round
SETTLE_ROUND = 0.05  # ... each round a joint routing of this share of the time, the others still relaxed
JOINT_ADAPT = True  # ... destroy-and-repair rounds skipped while they gain less per second than joint routing
PENALIZED_MOVES = True  # ... a joint routing after one that gained under STUCK starts from penalized pattern moves
STUCK = 0.001  # ... (share of the plan's cost)
LOAD_PRICE = 1.0  # ... per unit of excess load or time, at first: this many times the plan's metres per unit;
# halved each time the moves find nothing at that price
TABU_SHARE = 0.4  # each joint routing after the first starts from a tabu search over patterns in this
TABU_ITERATIONS = 200  # share of its round's time (0: none; deterministic: this many iterations);
TABU_ONCE_SEEN = True  # ... customers seen once change day in it too, and moves take a visit to another
TABU_RELOCATE = True  # vehicle of its day, the routes a move changed re-ordered (tabu_pattern_search)
TABU_REORDER = True
TABU_KICK = 3  # ... and when it meets no cheaper plan, the cheapest met with this many patterns changed (a kick)
NARROW_SECONDS_PER_VISIT = 0.1  # ... with less time than this per visit (search_narrow), joint routings search
NARROW_NEIGHBOURS = 20  # this many nearest visits per visit (PyVRP's default 50)
NARROW_HISTORY = 15  # and accept a solution against this many before it (late acceptance; PyVRP's default 300)
RESTARTS = 2  # ... planned this many times, each run in an equal share of the time, the best kept,
RESTART_SECONDS_PER_VISIT = 0.09  # ... when each run has at least this much per visit (restarts_pay)
HEAVY = 3.0  # ... except those whose visit loads a vehicle this many times the mean customer's or more
IMPROVE_PASSES = 10  # pattern and rep moves: at most this many passes over the customers
IMPROVE_ROUNDS = 0.02  # with ownership, at most this share of the time for pattern and rep moves after each round
POLISH_FIRST = 0.1  # at most this share of the time for the first re-routing of every day (then destroy-and-repair)
POLISH_ADAPT = True  # with ownership, later polishes only while they gain as fast as destroy-and-repair
MISSING_PENALTY = 1e6  # objective of destroy-and-repair: per visit left unplanned for want of room


@dataclass
class EngineResult:
    """What the engine decided: owner and pattern per customer, routes, unplanned visits."""

    rep_of: dict[int, int]
    pattern: dict[int, Pattern]
    routes: dict[Key, DayRoute]
    unplanned: list[tuple[int, int | None, str, str]] = field(default_factory=list)
    stats: dict = field(default_factory=dict)


class Engine:
    """Plans one instance with routing engines under a time limit and seed.

    ``router`` is the general engine (OR-Tools); ``fast_router`` (e.g. PyVRP), when given, is
    used for the days whose constraints it ``supports``.
    """

    def __init__(self, inst: PlanningInstance, router: RoutingEngine, *, time_limit: float = 30.0,
                 seed: int = 0, progress: Progress | None = None, missing_pins: frozenset[int] = frozenset(),
                 deterministic: bool = False, improve: bool = True, balance_days: bool = True,
                 fast_router: RoutingEngine | None = None, fast_supports: Callable[[RoutingProblem], bool] | None = None):
        self.inst = inst
        self.router = router
        self.fast_router = fast_router
        self.fast_supports = fast_supports or (lambda p: False)
        self.time_limit = time_limit
        self.seed = seed
        self.progress = progress or (lambda stage, frac: None)
        self.missing_pins = missing_pins
        self.deterministic = deterministic
        self.do_improve = improve
        self.balance_days = balance_days
        self.rng = np.random.default_rng(seed)
        self.dist_m = np.rint(inst.dist_km * 1000).astype(np.int64)
        self.t0 = time.monotonic()
        self.break_free = [0, 0]  # days routed without their lunch breaks first: kept, solved again with them
        self.settle_rounds = 0  # rounds of settling the patterns after the relaxed joint routing (_settle)
        self.joint_search: dict[str, int | None] = {}  # joint routings' neighbourhood and acceptance (search_narrow)

    # ------------------------------------------------------------------ helpers
    def _elapsed(self) -> float:
        return time.monotonic() - self.t0

    def _deadline(self, frac: float) -> float:
        return NEVER if self.deterministic else self.t0 + frac * self.time_limit

    def vehicles_on(self, d: int) -> list[int]:
        """Reps working on day offset ``d``."""
        return [r for r, rd in enumerate(self.inst.reps) if d in rd.day_offset_set]

    def _eligibility(self) -> tuple[list[list[int]], dict[Key, list[Pattern]], list]:
        eligible, options, why_not = eligibility(self.inst, self.missing_pins)
        return eligible, options, [(c, None, code, reason) for c, (code, reason) in sorted(why_not.items())]

    def eligibility(self) -> tuple[list[list[int]], dict[Key, list[Pattern]], list]:
        """Step 1 alone (used by :mod:`planner.pipeline.decompose`): the eligible reps of each
        customer, the patterns of each (customer, rep), and the customers no rep can see with
        their code and reason."""
        return self._eligibility()

    def _vehicle(self, r: int) -> VehicleSpec:
        rd = self.inst.reps[r]
        day = rd.day
        brk = (BreakSpec(day.lunch_duration, day.lunch_earliest, day.lunch_latest_end - day.lunch_duration)
               if day.has_lunch else None)
        return VehicleSpec(start_loc=day.start_loc, end_loc=day.end_loc, earliest_start=day.work_start,
                           latest_end=day.work_end, max_visits=day.max_visits, brk=brk, capacity=rd.capacity,
                           cost_per_unit=max(1, round(rd.cost_per_km * COST_SCALE)),
                           cost_per_second=round(rd.cost_per_second * COST_SCALE * 1000))

    def _day_problem(self, vehicles: list[int], members: list[int], d: int | None = None) -> RoutingProblem:
        inst = self.inst
        r0 = vehicles[0]  # windows depend on the working day; a shared fleet shares one
        return RoutingProblem(
            distance=self.dist_m, duration=inst.dur_s, visit_loc=tuple(members),
            service=tuple(int(inst.service_s[c]) for c in members),
            start_windows=tuple(inst.start_windows_on(c, r0, d) for c in members),
            vehicles=tuple(self._vehicle(r) for r in vehicles),
            demand=tuple(int(inst.demand[c]) for c in members) if inst.demand is not None else None,
            penalty=tuple(DROP_PENALTY for _ in members))

    def route_day(self, vehicles: list[int], members: list[int], *, guided: bool = False, budget: float = 1.0,
                  initial: dict[int, list[int]] | None = None,
                  day: int | None = None) -> tuple[dict[int, DayRoute], list[int]]:
        """Route ``members`` with the reps ``vehicles`` on day offset ``day``; returns routes and dropped.

        With lunch breaks, the general engine first routes the day without them
        (:func:`~planner.solver.problem.without_breaks`: far faster, as good an order); the
        order is kept if the timeline can time it with the lunch and nothing was dropped, else
        the day is routed again with the breaks modelled, in the time left."""
        if not members:
            return {r: make_route(self.inst, r, [], day) for r in vehicles}, []
        problem = self._day_problem(vehicles, members, day)
        pos = {c: i for i, c in enumerate(members)}
        init = [[pos[c] for c in initial.get(r, []) if c in pos] for r in vehicles] if initial else None
        fast = self.fast_router is not None and self.fast_supports(problem)
        if self.deterministic:  # searches end by counts or local optimum, never by the clock
            limit = max(200, int(200 * budget)) if fast else (100 if guided else None)
            budget = 60.0
        else:
            limit = None if fast else (200 if guided else None)
        opts = SearchOptions(time_limit=budget, guided=guided, seed=self.seed, solution_limit=limit,
                             initial_routes=init)
        approx = None if fast else without_breaks(problem)
        if approx is not None:  # lunch breaks: route without them, then time exactly with them
            t = time.monotonic()
            sol = self.router.solve(approx, opts)
            if sol.feasible and not sol.dropped:
                timed: dict[int, DayRoute] = {}
                for v, r in enumerate(vehicles):
                    if (rt := make_route(self.inst, r, [members[i] for i in sol.routes[v]], day)) is None:
                        break
                    timed[r] = rt
                else:
                    self.break_free[0] += 1
                    return timed, []
            self.break_free[1] += 1  # the lunch does not fit the order found: solve with breaks
            if not self.deterministic:
                opts = replace(opts, time_limit=max(0.05, budget - (time.monotonic() - t)))
        sol = (self.fast_router if fast else self.router).solve(problem, opts)
        if not sol.feasible and fast:
            sol = self.router.solve(problem, SearchOptions(time_limit=budget, guided=guided, seed=self.seed,
                                                           solution_limit=None if not self.deterministic else 100))
        dropped = [members[i] for i in sol.dropped]
        out: dict[int, DayRoute] = {}
        for v, r in enumerate(vehicles):
            seq = [members[i] for i in sol.routes[v]] if sol.routes else []
            route = make_route(self.inst, r, seq, day)
            while route is None and seq:  # engine and timeline disagree: drop the longest visit
                worst = max(seq, key=lambda c: self.inst.service_s[c])
                seq.remove(worst)
                dropped.append(worst)
                route = make_route(self.inst, r, seq, day)
            out[r] = route
        return out, dropped

    # ------------------------------------------------------------------ phases
    def run(self) -> EngineResult:
        """Plan the instance: once, or, for a shared fleet over several days when
        :func:`restarts_pay`, :data:`RESTARTS` times with their own seeds in equal shares of the
        time, keeping the best plan (:meth:`_run_restarts`)."""
        self.progress("eligibility", 0.02)
        eligible, options, unplanned = self._eligibility()
        if not self.inst.ownership and self.do_improve and self.fast_router is not None:
            visits = sum(len(options[(c, eligible[c][0])][0].days) for c in range(self.inst.n) if eligible[c])
            days = {d for rd in self.inst.reps for d in rd.day_offsets}
            if len(days) > 1 and restarts_pay(self.time_limit, visits):
                return self._run_restarts(eligible, options, unplanned)
        return self._run_once(eligible, options, unplanned)

    def _run_restarts(self, eligible, options, unplanned: list) -> EngineResult:
        """:data:`RESTARTS` runs (:meth:`_run_once`), each with its own seed (the first with the
        engine's) and an equal share of the time left; the plan with the fewest visits left
        unplanned for want of room, then the lowest cost (with pattern penalties), wins. Its
        stats tell the restarts and each run's cost. On Cordeau's instances a run's result depends
        mostly on the patterns its first joint routing settles on (p28 at 60 s: 0.5% to 4.9% above
        the best-known by seed), and most runs end within 1% of where their search phase
        starts: two runs of half the time each were better than one in most cases measured."""
        results: list[tuple[tuple[int, float], EngineResult]] = []
        for i in range(RESTARTS):
            sub = copy.copy(self)
            sub.t0 = time.monotonic()
            left = self.time_limit * (RESTARTS - i) / RESTARTS if self.deterministic else \
                self.time_limit - self._elapsed()  # (deterministic: counts from equal shares)
            sub.time_limit = max(0.1, left / (RESTARTS - i))
            sub.seed = self.seed + 1009 * i
            sub.rng = np.random.default_rng(sub.seed)
            sub.break_free = [0, 0]
            sub.progress = lambda stage, frac, i=i: self.progress(stage, (i + frac) / RESTARTS)
            res = sub._run_once(eligible, options, list(unplanned))
            missing = short_of_room(res.unplanned)
            cost = sum(rt.cost for rt in res.routes.values()) + 0.5 * sum(p.penalty for p in res.pattern.values())
            results.append(((missing, cost), res))
        best = min(results, key=lambda t: t[0])[1]
        best.stats["seconds"] = round(self._elapsed(), 2)
        best.stats["restarts"] = RESTARTS
        best.stats["restart_costs"] = [round(key[1], 3) for key, _res in results]
        return best

    def _run_once(self, eligible, options, unplanned: list) -> EngineResult:
        """Steps 2-6 for the whole instance, given step 1 (:meth:`_eligibility`)."""
        inst = self.inst
        pattern: dict[int, Pattern] = {}
        rep_of: dict[int, int] = {}
        self.progress("patterns", 0.05)
        if inst.ownership:
            visits = np.array([len(options[(c, eligible[c][0])][0].days) if eligible[c] else 0
                               for c in range(inst.n)], dtype=float)
            terr = assign_territories(inst, eligible, visits)
            rep_of = {c: int(terr.rep_of[c]) for c in range(inst.n) if terr.rep_of[c] >= 0}
            for r in range(len(inst.reps)):
                mine = [c for c, rr in rep_of.items() if rr == r]
                pattern.update(choose_patterns(inst, r, mine, {c: options[(c, r)] for c in mine}))
            groups = [([r], d) for r in range(len(inst.reps)) for d in inst.reps[r].day_offsets]
        else:
            fleet = [c for c in range(inst.n) if eligible[c]]
            pattern.update(choose_patterns(inst, 0, fleet, {c: options[(c, eligible[c][0])] for c in fleet},
                                           fleet_size=len(inst.reps)))
            # customers seen several times get their days among themselves: the once-seen ones are
            # free to follow them when all days are routed jointly (below)
            multi = [c for c in fleet if not _free_day(options[(c, eligible[c][0])])]
            if len(multi) < len(fleet):
                pattern.update(choose_patterns(inst, 0, multi, {c: options[(c, eligible[c][0])] for c in multi},
                                               fleet_size=len(inst.reps)))
            days = sorted({d for rd in inst.reps for d in rd.day_offsets})
            groups = [(self.vehicles_on(d), d) for d in days]
        plan_visits = sum(len(p.days) for p in pattern.values())
        relax = JOINT_RELAX and relax_pays(self.time_limit, plan_visits)
        self.joint_search = {"neighbours": NARROW_NEIGHBOURS, "history": NARROW_HISTORY} \
            if search_narrow(self.time_limit, plan_visits) else {}
        joint = None if inst.ownership or not self.do_improve else self._route_days_jointly(
            eligible, options, pattern, budget=(JOINT_FIRST if relax else JOINT_SHARE) * self.time_limit,
            relax=relax, settle=SETTLE if relax else 1.0)
        if joint is not None:  # a shared fleet over several days, routed as one problem
            routes, pattern, loose = self._settle(eligible, options, joint)
            fixed = self._route_days_jointly(eligible, options, pattern, budget=JOINT_ROUND * self.time_limit,
                                             routes=self._complete_by_insertion(routes, pattern, loose)) \
                if loose else None
            if fixed is not None:  # the visits of the loose customers' patterns added, all days re-routed
                routes, pattern = fixed[0], fixed[1]  # (once-seen customers may have changed day too)
            else:  # (nothing loose, or no solution: place the loose customers by exact insertion)
                routes = {k: make_route(inst, k[0], [c for c in rt.seq if c not in loose], k[1])
                          for k, rt in routes.items()}
                pattern = {c: p for c, p in pattern.items() if c not in loose}
            state = _State(self, options, eligible, rep_of, pattern, routes)
            state.polished_once = True
            if fixed is None:
                state.place_new(loose)
            state.stats["joint_rounds"] = 1 + self.settle_rounds + (fixed is not None)
            state.stats["settle_rounds"] = self.settle_rounds
            state.stats["joint_loose"] = len(loose)
            self.progress("improvement", 0.45)
            return self._search_joint(state, eligible, options, unplanned)
        members: dict[int, dict[int, list[int]]] = {}
        for c, p in sorted(pattern.items()):
            for d in p.days:
                owner = rep_of[c] if inst.ownership else -1
                members.setdefault(d, {}).setdefault(owner, []).append(c)
        routes: dict[Key, DayRoute] = {}
        dropped: list[tuple[int, int]] = []
        share = 0.3 if inst.ownership else (0.45 if len(groups) == 1 else 0.15)
        busy = sum(1 for vehicles, d in groups
                   if members.get(d, {}).get(vehicles[0] if inst.ownership else -1))
        per_group = max(0.05, share * self.time_limit / max(1, busy))
        for i, (vehicles, d) in enumerate(groups):
            owner = vehicles[0] if inst.ownership else -1
            day_routes, drop = self.route_day(vehicles, members.get(d, {}).get(owner, []),
                                              guided=not inst.ownership, budget=per_group, day=d)
            routes.update({(r, d): rt for r, rt in day_routes.items()})
            dropped.extend((c, d) for c in drop)
            if i % 10 == 0:
                self.progress("routing", 0.10 + 0.35 * i / max(1, len(groups)))
        state = _State(self, options, eligible, rep_of, pattern, routes)
        if not inst.ownership:  # days were routed with guided search already: polish only what changes
            state.polished_once = True
        self.progress("repair", 0.45)
        state.repair(dropped)
        return self._search(state, unplanned)

    def _route_days_jointly(self, eligible, options, pattern: dict[int, Pattern], budget: float,
                            routes: dict[Key, DayRoute] | None = None, relax: bool | set[int] = False,
                            seed: int | None = None, settle: float = 1.0,
                            sequences: dict[Key, list[int]] | None = None) -> JointRouting | None:
        """Shared fleet over several days: route all days as one problem, the vehicles of every
        day together, in which a customer seen once whose pattern may be any of several days is
        one visit any of those days' vehicles may make (so the day is chosen with the routes);
        a customer seen more often has a visit on each day of its ``pattern``. ``routes``: the
        current routes, to start from (or ``sequences``: their visit orders, which need not be
        feasible); ``seed``: the search's (default the engine's).

        ``relax``: a customer seen several times is not held to one pattern either: its k-th
        visit may take the k-th day of any of its patterns. Where the days the routing gives it
        form one of its patterns, that is its pattern; the others (``loose``) get the pattern
        cheapest to reach from there (:meth:`_nearest_pattern`), their visits on other days are
        taken out, and the missing ones are left for the caller to add (a joint routing started
        from these routes). A set: only these customers are relaxed. ``settle`` < 1: only that
        share of the loose customers (at least one), those whose nearest pattern costs least to
        reach, get it; the others stay as routed, still relaxed (:meth:`_settle`).

        Returns the routes, patterns, loose and still relaxed customers, or None if the fast engine cannot state the problem
        (windows that differ by day, breaks...) or finds no complete solution."""
        inst = self.inst
        worked = {d for rd in inst.reps for d in rd.day_offsets}
        days = sorted({d for c in pattern for p in options[(c, eligible[c][0])] for d in p.days} & worked)
        if self.fast_router is None or len(days) < 2:  # (one day: the day-by-day routing is the same)
            return None
        slots = [(v, d) for d in days for v in self.vehicles_on(d)]
        by_day: dict[int, tuple[int, ...]] = {d: tuple(i for i, (_v, dd) in enumerate(slots) if dd == d) for d in days}
        # a heavy customer is held to one pattern: relaxed, its visits scatter, and re-placing a
        # heavy visit on the days of a pattern needs room few routes have
        heavy = HEAVY * float(np.mean(inst.demand)) if inst.demand is not None and inst.n else 0.0  # (0: none)
        visits: list[tuple[int, tuple[int, ...]]] = []  # (customer, days it may take)
        free: dict[int, dict[int, Pattern]] = {}
        relaxed: dict[int, dict[tuple[int, ...], Pattern]] = {}
        for c in sorted(pattern):
            opts = options[(c, eligible[c][0])]
            if _free_day(opts):
                free[c] = {p.days[0]: p for p in opts}
                visits.append((c, tuple(sorted(free[c]))))
            elif relax and (relax is True or c in relax) and len(opts) > 1 and len({len(p.days) for p in opts}) == 1 and not any(p.short for p in opts) \
                    and not (heavy and inst.demand[c] >= heavy):
                relaxed[c] = {p.days: p for p in opts}
                visits.extend((c, tuple(sorted({p.days[k] for p in opts}))) for k in range(len(opts[0].days)))
            else:
                visits.extend((c, (d,)) for d in pattern[c].days)
        windows = []
        for c, ds in visits:  # one window per visit: the same on each day and vehicle it may take
            w = {inst.start_windows_on(c, v, d) for d in ds for v in self.vehicles_on(d)}
            if len(w) != 1:
                return None
            windows.append(w.pop())
        problem = RoutingProblem(
            distance=self.dist_m, duration=inst.dur_s, visit_loc=tuple(c for c, _ in visits),
            service=tuple(int(inst.service_s[c]) for c, _ in visits), start_windows=tuple(windows),
            vehicles=tuple(self._vehicle(v) for v, _d in slots),
            demand=tuple(int(inst.demand[c]) for c, _ in visits) if inst.demand is not None else None,
            allowed_vehicles=tuple(tuple(i for d in ds for i in by_day[d]) for _c, ds in visits))
        if not self.fast_supports(problem):
            return None
        init = None
        if sequences is None and routes is not None:
            sequences = {k: rt.seq for k, rt in routes.items()}
        if sequences is not None:
            where: dict[tuple[int, int], int] = {}
            for i, (c, ds) in enumerate(visits):
                for d in ds:
                    where[(c, d)] = i
            seen: set[int] = set()  # (a relaxed start may hold a customer twice on a day)
            init = [[i for c in sequences.get((v, d), ())
                     if (i := where.get((c, d))) is not None and not (i in seen or seen.add(i))]
                    for v, d in slots]
        limit = max(1000, int(300 * budget)) if self.deterministic else None
        sol = self.fast_router.solve(problem, SearchOptions(
            time_limit=budget, seed=self.seed if seed is None else seed, solution_limit=limit, initial_routes=init,
            **self.joint_search))
        if not sol.feasible or sol.dropped:
            return None
        new_routes: dict[Key, DayRoute] = {(v, d): make_route(inst, v, [], d) for d in sorted(worked)
                                           for v in self.vehicles_on(d)}  # days no pattern uses stay empty
        new_pattern = dict(pattern)
        seqs = {slot: [visits[j][0] for j in sol.routes[i]] for i, slot in enumerate(slots)}
        got: dict[int, list[int]] = {}
        for (v, d), seq in seqs.items():
            for c in seq:
                if c in free:
                    new_pattern[c] = free[c][d]
                elif c in relaxed:
                    got.setdefault(c, []).append(d)
        reach: dict[int, float] = {}  # loose customer -> estimated cost of reaching its nearest pattern
        as_routed: dict[Key, DayRoute | None] = {}  # the routes as the engine gave them, made on demand
        for c, ds in sorted(got.items()):
            p = relaxed[c].get(tuple(sorted(ds)))
            if p is None:
                p, reach[c] = self._nearest_pattern(c, ds, relaxed[c], seqs, as_routed)
            new_pattern[c] = p
        by_reach = sorted(reach, key=lambda c: (reach[c], c))
        n_settled = len(by_reach) if settle >= 1 else max(1, int(np.ceil(settle * len(by_reach))))
        loose, still = sorted(by_reach[:n_settled]), set(by_reach[n_settled:])
        for (v, d), seq in seqs.items():
            rt = make_route(inst, v, [c for c in seq if c not in relaxed or c in still or d in new_pattern[c].days], d)
            if rt is None:  # the engine and the timeline disagree: keep the day-by-day plan
                return None
            new_routes[(v, d)] = rt
        return JointRouting(new_routes, new_pattern, loose, sorted(still))

    def _settle(self, eligible, options, joint: JointRouting) -> tuple[dict[Key, DayRoute], dict[int, Pattern], list[int]]:
        """Patterns for the customers a relaxed joint routing left on days that form none of
        theirs, a share per round (``SETTLE``, the cheapest to reach first): each round, the
        missing visits of those just settled are inserted and all days are routed again, the
        others still relaxed, so that they fit around the settled ones, and more of them end on
        days that form a pattern. Settling all at once changes the plan abruptly: on Cordeau p08,
        39 of 46 customers (a pattern is one of 0-2, 1-3, 2-4) are loose after the relaxed
        routing, and the joint routing completing them often found no solution in its time.

        Rounds of ``SETTLE_ROUND`` of the time until ``JOINT_SHARE`` is spent (five when
        deterministic); the last settles all. A round's routing starts from a plan that lost its
        order where visits moved: in 0.03 of 60 s PyVRP made 450-2,300 iterations on Cordeau
        pr10's 864 visits and some rounds ended above their start; with 0.05, at 60 s, seeds
        1-4, pr10 2.72% above the best-known from 3.35%, pr05 2.16% from 2.87% (pr06 3.07% from
        2.64%; README, "Since stop 26"). Returns the routes, patterns and loose customers,
        all of them with a pattern (missing visits not yet inserted, as for ``joint``)."""
        routes, pattern, loose, relaxed = joint
        settled = list(loose)
        self.settle_rounds = 0
        while relaxed:
            self.settle_rounds += 1
            last = self.settle_rounds >= 5 if self.deterministic else \
                self._elapsed() + 2 * SETTLE_ROUND * self.time_limit > JOINT_SHARE * self.time_limit
            nxt = self._route_days_jointly(eligible, options, pattern, budget=SETTLE_ROUND * self.time_limit,
                                           routes=self._complete_by_insertion(routes, pattern, loose),
                                           relax=set(relaxed), settle=1.0 if last else SETTLE)
            if nxt is None:  # (the completion that follows takes the still relaxed ones out of other days)
                return routes, pattern, settled + relaxed
            routes, pattern, loose, relaxed = nxt
            settled += loose
        return routes, pattern, settled

    def _complete_by_insertion(self, routes: dict[Key, DayRoute], pattern: dict[int, Pattern],
                               loose: list[int]) -> dict[Key, DayRoute]:
        """``routes`` with the missing visits of the ``loose`` customers' patterns inserted where
        they cost least (exact insertion, any vehicle of the day): the start of the joint routing
        that completes their patterns, which then begins from a whole plan. A visit no route can
        take is left for that routing to place."""
        inst = self.inst
        out = dict(routes)
        for c in loose:
            for d in pattern[c].days:
                keys = [(v, d) for v in self.vehicles_on(d) if (v, d) in out]
                if any(c in out[k].seq for k in keys):
                    continue
                best = None
                for k in keys:
                    ins = best_insertion(inst, k[0], out[k], c, tries=5, d=d)
                    if ins is not None and (best is None or ins[0] < best[0]):
                        best = (ins[0], k, ins[1])
                if best is not None:
                    out[best[1]] = best[2]
        return out

    def _nearest_pattern(self, c: int, days: list[int], patterns: dict[tuple[int, ...], Pattern],
                         seqs: dict[Key, list[int]], routes: dict[Key, DayRoute | None]) -> tuple[Pattern, float]:
        """The pattern of ``c`` that costs least to reach from where a relaxed joint routing put its
        visits (on ``days``, in the routes ``seqs``; ``routes`` caches them as made), and that
        cost: the estimated insertion on each day it lacks less the removal gain on each day it
        drops; ties by the pattern order."""
        inst = self.inst

        def route(k: Key) -> DayRoute | None:
            if k not in routes:
                routes[k] = make_route(inst, k[0], seqs.get(k, []), k[1])
            return routes[k]

        where = {k[1]: k for k, seq in seqs.items() if c in seq}

        def cost(p: Pattern) -> float:
            total = 0.0
            for d in set(p.days) - set(days):
                ests = [insertion_estimate(inst, v, rt, c) for v in self.vehicles_on(d)
                        if (rt := route((v, d))) is not None]
                total += min(ests, default=float("inf"))
            for d in set(days) - set(p.days):
                rt = route(where[d])
                total -= removal(inst, where[d][0], rt, c, d)[0] if rt is not None else 0.0
            return total

        best_cost, _i, best = min(((cost(p), i, p) for i, p in enumerate(patterns.values())), key=lambda t: t[:2])
        return best, best_cost

    def _penalized_start(self, routes: dict[Key, DayRoute], pattern: dict[int, Pattern], eligible, options,
                         deadline: float, price: float = LOAD_PRICE,
                         tabu: bool = False) -> tuple[dict[Key, list[int]], dict[int, Pattern], int]:
        """Sequences and patterns after :func:`~planner.pipeline.pattern_moves.penalized_pattern_moves`
        from ``routes`` (customers seen several times, in a seeded order): the start of a joint
        routing that may repair overloaded routes. Excess load and time are priced at ``price``
        times the plan's metres per unit of load, or per second of work. ``tabu``: after
        :func:`~planner.pipeline.pattern_moves.tabu_pattern_search` instead, until ``deadline``
        (deterministic: :data:`TABU_ITERATIONS`), customers seen once moving too
        (:data:`TABU_ONCE_SEEN`: a full day makes room when one of them moves to another day)."""
        inst = self.inst
        seqs = {k: list(rt.seq) for k, rt in routes.items()}
        specs = {v: self._vehicle(v) for v in range(len(inst.reps))}
        fleet = Fleet(start=[specs[v].start_loc for v in range(len(inst.reps))],
                      end=[specs[v].end_loc for v in range(len(inst.reps))],
                      capacity=[specs[v].capacity for v in range(len(inst.reps))],
                      span=[None if specs[v].latest_end is None else specs[v].latest_end - specs[v].earliest_start
                            for v in range(len(inst.reps))])
        metres = work = load = 0.0
        for (v, _d), rt in routes.items():
            if rt.seq:
                path = [fleet.start[v], *rt.seq, fleet.end[v]]
                metres += float(sum(self.dist_m[a, b] for a, b in zip(path, path[1:])))
                work += float(sum(inst.dur_s[a, b] for a, b in zip(path, path[1:])) + sum(inst.service_s[c] for c in rt.seq))
                if inst.demand is not None:
                    load += float(sum(inst.demand[c] for c in rt.seq))
        multi = [c for c in sorted(pattern) if (tabu and TABU_ONCE_SEEN or not _free_day(options[(c, eligible[c][0])]))
                 and len(options[(c, eligible[c][0])]) > 1]
        order = [multi[i] for i in self.rng.permutation(len(multi))]
        if tabu:
            return tabu_pattern_search(
                seqs, pattern, lambda c: options[(c, eligible[c][0])], fleet, self.dist_m, inst.dur_s,
                inst.service_s, inst.demand, order, self.rng, load_price=price * metres / max(load, 1.0),
                time_price=price * metres / max(work, 1.0),
                iterations=TABU_ITERATIONS if self.deterministic else 10 ** 9,
                deadline=lambda: not self.deterministic and time.monotonic() > deadline,
                relocate=TABU_RELOCATE, reorder=TABU_REORDER, kick=TABU_KICK)
        return penalized_pattern_moves(
            seqs, pattern, lambda c: options[(c, eligible[c][0])], fleet, self.dist_m, inst.dur_s,
            inst.service_s, inst.demand, order, load_price=price * metres / max(load, 1.0),
            time_price=price * metres / max(work, 1.0),
            deadline=lambda: not self.deterministic and time.monotonic() > deadline)

    def _search_joint(self, state: "_State", eligible, options, unplanned: list) -> EngineResult:
        """Shared fleet over several days, after a first joint routing: rounds of pattern moves
        and destroy-and-repair priced by insertion (they choose the patterns of customers seen
        several times), each followed by a joint routing of all days started from the result.

        Destroy-and-repair is skipped (at most three rounds in a row) while its last round gained
        less per second than the last joint routing: on tight routes its insertions often find
        nothing the joint routing would not, and the time goes to the joint routing. Each joint
        routing searches with its own seed (the same seed from its own result would repeat it),
        and starts from the plan a tabu search over the patterns reached in :data:`TABU_SHARE`
        of its round (:func:`~planner.pipeline.pattern_moves.tabu_pattern_search`: moves that
        cost more are made too, so the patterns leave the local optimum the insertion moves and
        the routing settle in; Cordeau p10 at 60 s, seeds 1-4, 3.0-6.9% above the best-known
        against 3.2-8.8% without; with customers seen once moving too, visits moving between the
        vehicles of a day and the changed routes re-ordered, seeds 1-16: mean 3.00%, at worst
        4.19%, against 3.57% and 6.54%). When the tabu search meets no cheaper plan it returns
        the cheapest it met with :data:`TABU_KICK` patterns changed or more (a kick: once the
        routing has settled, insertion seldom beats its routes, and p23 sat unchanged for the
        last half of its time); all 42 at 60 s, seeds 1 and 2: mean 1.07 / 1.14% against 1.22 /
        1.19%. If that moved nothing and the last joint routing gained less
        than :data:`STUCK`, it starts from :meth:`_penalized_start` instead (at a price halved
        each time it moves nothing)."""
        rounds = 0
        rates = [0.0, 0.0]  # gain per second of the last destroy-and-repair and of the last joint routing
        skipped = 0
        stuck, price = False, LOAD_PRICE
        while True:
            rounds += 1
            state.improve(deadline=NEVER if self.deterministic else
                          min(self._deadline(0.95), time.monotonic() + 0.05 * self.time_limit))
            if self.deterministic or not JOINT_ADAPT or _worth_running(rounds, rates[0], rates[1], skipped):
                t0, v0 = time.monotonic(), state.total + state._penalties()
                state.lns(deadline=NEVER if self.deterministic else
                          min(self._deadline(0.95), time.monotonic() + JOINT_LNS * self.time_limit),
                          max_iters=max(50, int(5 * self.time_limit)) if self.deterministic else None)
                state.restore_best()
                rates[0] = (v0 - state.total - state._penalties()) / max(1e-3, time.monotonic() - t0)
                skipped = 0
            else:
                skipped += 1
            left = self._deadline(0.97) - time.monotonic()
            budget = (JOINT_ROUND * self.time_limit) if self.deterministic else min(left, JOINT_ROUND * self.time_limit)
            if budget < 0.2:
                break
            t0 = time.monotonic()
            before = state.total + state._penalties()
            pattern, seqs = state.pattern, None
            moved = 0
            if TABU_SHARE:  # patterns change by a tabu search in that share of the round, then all is re-routed
                seqs, pattern, moved = self._penalized_start(state.routes, state.pattern, eligible, options,
                                                             time.monotonic() + TABU_SHARE * budget, LOAD_PRICE,
                                                             tabu=True)
                budget *= 1 - TABU_SHARE
                state.stats["tabu_moves"] = state.stats.get("tabu_moves", 0) + moved
                state.stats["tabu_starts"] = state.stats.get("tabu_starts", 0) + 1
                if not moved:
                    pattern, seqs = state.pattern, None
            if PENALIZED_MOVES and stuck and not moved:  # the last joint routing found (almost) nothing
                seqs, pattern, moved = self._penalized_start(state.routes, state.pattern, eligible, options,
                                                             time.monotonic() + 0.1 * budget, price)
                state.stats["penalized_moves"] = state.stats.get("penalized_moves", 0) + moved
                state.stats["penalized_starts"] = state.stats.get("penalized_starts", 0) + 1
                if not moved:
                    price /= 2
                    seqs = None
            joint = self._route_days_jointly(eligible, options, pattern, budget, routes=state.routes,
                                             sequences=seqs, seed=self.seed + rounds)
            if joint is not None:
                new = _State(self, options, eligible, state.rep_of, joint[1], joint[0])  # (nothing loose)
                if new.total + new._penalties() < before - 1e-6:
                    new.stats = state.stats
                    new.polished_once = True
                    state = new
                    state.stats["joint_rounds"] = state.stats.get("joint_rounds", 0) + 1
            rates[1] = (before - state.total - state._penalties()) / max(1e-3, time.monotonic() - t0)
            stuck = before - state.total - state._penalties() < STUCK * before
            if self.deterministic and rounds >= 3 or time.monotonic() > self._deadline(0.96):
                break
        return self._search(state, unplanned, improve=False)

    def _search(self, state: "_State", unplanned: list, improve: bool | None = None) -> EngineResult:
        """Improvement, polish and destroy-and-repair while time remains; then the last chance
        for unplanned visits."""
        inst = self.inst
        if self.do_improve if improve is None else improve:
            state.balance = self.balance_days
            self.progress("improvement", 0.55)
            state.improve(deadline=self._deadline(0.7 if inst.ownership else 0.55))
            self.progress("polish", 0.7)
            state.polish(deadline=self._deadline(0.8) if self.deterministic else
                         min(self._deadline(0.8 if inst.ownership else 0.97),
                             time.monotonic() + POLISH_FIRST * self.time_limit))
            # destroy and repair over days while time remains, re-routing what changed
            rounds = 0
            schedule = (time.monotonic(), self._deadline(0.92))
            # With account ownership, destroy-and-repair improves the order of the days it changes
            # (ROUTE_MOVES), and polishing them again mostly finds nothing: a polish is skipped
            # while the last one gained less per second than the last destroy-and-repair round
            # (at most three times in a row), and that time goes to destroy-and-repair.
            rates = [0.0, 0.0]  # gain per second of the last destroy-and-repair round and of the last polish
            skipped = 0
            while rounds < (3 if self.deterministic else 1000):
                rounds += 1
                state.note_best()
                t0, v0 = time.monotonic(), state.best[0]
                lns_end = min(self._deadline(0.92), time.monotonic() + max(1.0, 0.12 * self.time_limit))
                state.lns(deadline=NEVER if self.deterministic else lns_end,
                          max_iters=max(50, int(20 * self.time_limit)) if self.deterministic else None,
                          schedule=schedule)
                if inst.ownership and IMPROVE_ROUNDS:  # single-customer moves (destroy-and-repair moves 2 or more)
                    state.restore_best()
                    state.improve(deadline=NEVER if self.deterministic else
                                  min(self._deadline(0.92), time.monotonic() + IMPROVE_ROUNDS * self.time_limit))
                    state.note_best()
                rates[0] = (v0 - state.best[0]) / max(1e-3, time.monotonic() - t0)
                if self.deterministic or not (POLISH_ADAPT and inst.ownership) \
                        or _worth_running(rounds, rates[1], rates[0], skipped):
                    self.progress("polish", 0.93)
                    t0, v0 = time.monotonic(), state.total
                    state.polish(deadline=NEVER if self.deterministic else
                                 min(self._deadline(0.97), time.monotonic() + max(0.5, 0.04 * self.time_limit)))
                    rates[1] = (v0 - state.total) / max(1e-3, time.monotonic() - t0)
                    skipped = 0
                else:
                    skipped += 1
                state.note_best()
                if time.monotonic() > self._deadline(0.9):
                    break
            state.restore_best()
            state.balance = False
        state.reinsert_unplanned()
        unplanned.extend(state.unplanned)
        for c, p in sorted(state.pattern.items()):  # visits no day could take (rep away most of a block)
            for m in p.short:
                owned = inst.ownership and c in state.rep_of
                who = f"rep {inst.reps[state.rep_of[c]].rep.id}" if owned else "the fleet"
                unplanned.append((c, m, REASON_REP_ABSENT,
                                  f"{who} is away on the days this visit could take in the period from "
                                  f"{inst.date(m)} (frequency {inst.frequencies[c]}, spacing kept); the other "
                                  "visits are planned"))
        self.progress("done", 1.0)
        return EngineResult(state.rep_of, state.pattern, state.routes, unplanned,
                            {"seconds": round(self._elapsed(), 2), **state.stats,
                             "break_free_days": self.break_free[0], "break_retries": self.break_free[1]})

    def state_of(self, rep_of: dict[int, int], pattern: dict[int, Pattern],
                 sequences: dict[Key, list[int]]) -> "_State":
        """The search state of an existing plan (its routes in their order), e.g. to price the
        alternatives of a customer (:meth:`_State.price_alternatives`). Routes that no longer
        work as they are (facts changed) are re-sequenced by the timeline's order, else kept
        as close as possible."""
        eligible, options, _unplanned = self._eligibility()
        routes: dict[Key, DayRoute] = {}
        for r, rd in enumerate(self.inst.reps):
            for d in rd.day_offsets:
                seq = [c for c in sequences.get((r, d), []) if c in pattern]
                route = make_route(self.inst, r, seq, d)
                if route is None:
                    route = self.route_day([r], seq, budget=0.5, day=d)[0][r]
                routes[(r, d)] = route
        return _State(self, options, eligible, dict(rep_of), dict(pattern), routes)

    def run_warm(self, rep_of: dict[int, int], pattern: dict[int, Pattern], sequences: dict[Key, list[int]],
                 displaced: list[int]) -> EngineResult:
        """Continue from an existing plan (a re-plan): ``rep_of``/``pattern`` of the customers whose
        visits stay as they are, ``sequences`` their routes' visit order per (rep, day offset),
        ``displaced`` the customers to place anew (new, changed, or whose visits fell on lost days).

        Kept routes are not re-optimised unless something changes on them; then placement,
        improvement and destroy-and-repair run as in :meth:`run`, priced with the pattern
        penalties (which carry a re-plan's change costs)."""
        inst = self.inst
        self.progress("eligibility", 0.02)
        eligible, options, unplanned = self._eligibility()
        no_rep = {u[0] for u in unplanned}
        routes: dict[Key, DayRoute] = {}
        kept_rep: dict[int, int] = {}
        kept_pat: dict[int, Pattern] = {}
        lost: set[int] = set()
        for r, rd in enumerate(inst.reps):
            for d in rd.day_offsets:
                seq = [c for c in sequences.get((r, d), []) if c in pattern and c not in no_rep]
                route = make_route(inst, r, seq, d)
                if route is None:  # the old order no longer works (a visit longer now...): route it again
                    new, dropped = self.route_day([r], seq, budget=0.5, day=d)
                    route = new[r]
                    lost.update(dropped)
                routes[(r, d)] = route
        for c, p in pattern.items():
            if c not in no_rep and c not in lost:
                kept_pat[c] = p
                if c in rep_of:
                    kept_rep[c] = rep_of[c]
        state = _State(self, options, eligible, kept_rep, kept_pat, routes)
        for c in lost:  # take the rest of its visits out too; it is placed anew below
            for (r, d), rt in list(state.routes.items()):
                if c in rt.seq:
                    state._apply({(r, d): removal(inst, r, rt, c, d)[1]})
        state.polished_once = True
        state.changed = set()
        self.progress("placing", 0.1)
        todo = sorted({c for c in (*displaced, *lost) if c not in no_rep and eligible[c]},
                      key=lambda c: (c not in inst.priority, len(eligible[c]), c))
        state.place_new(todo)
        self.progress("repair", 0.45)
        return self._search(state, unplanned)


def acceptance_share(progress: float, busy_routes: int, ownership: bool,
                     iters_per_customer: float | None = None) -> float:
    """How much worse than the best (a share of its route cost) a destroy-and-repair state may
    be and still be kept, ``progress`` (0..1) into the phase: :data:`THRESHOLD`, shrinking to 0.

    With account ownership, plans of more than :data:`ACCEPT_ROUTES` busy routes get a share
    smaller in proportion: a move changes a few routes, not the plan, and a share of a large
    plan lets the search drift further from its best than its moves can bring it back. So do
    phases with time for fewer than :data:`ACCEPT_ITERS` iterations per customer
    (``iters_per_customer``, the phase's expected iterations over its customers; None: not
    known yet): a short search has no time to come back from worse states, and does best
    taking only better ones (a large region planned in a minute)."""
    share = THRESHOLD * (1.0 - min(1.0, max(0.0, progress)))
    if ownership and busy_routes > ACCEPT_ROUTES:
        share *= ACCEPT_ROUTES / busy_routes
    if ownership and iters_per_customer is not None and iters_per_customer < ACCEPT_ITERS:
        share *= max(0.0, iters_per_customer) / ACCEPT_ITERS
    return share


def relax_pays(time_limit: float, visits: int) -> bool:
    """Whether the first joint routing of a shared fleet relaxes the patterns (customers seen
    several times choose their days with the routes, then settle on a pattern): when the time
    limit gives :data:`RELAX_SECONDS_PER_VISIT` or more per visit. Relaxed, the plan is first
    routed well without its patterns and then loses some of that to settling them; with too
    little time per visit the routing never recovers that loss. Measured at 60 s on Cordeau's
    instances: pr08 (432 visits), pr09 (648), p23 and p11 were better relaxed (pr08 2.8-3.8%
    above the best-known against 4.9-5.0%, p23 3.1-3.8% against 4.5-5.8%). pr10 (864 visits,
    69 ms each) was worse relaxed before the tabu rounds (4.7-6.6% against 4.3%); since the
    tabu search's faster pricing, seeds 1-8: mean 3.24%, at worst 4.96%, 2 runs of 8 above 4%,
    against 4.02%, 4.78% and 4 of 8 with its patterns chosen first (hence 0.06 s, not 0.08).
    The first joint routing has the whole pattern choice to make at once; a tabu round's
    joint routing on 864 visits gains about 0.1% in its 5.5 s."""
    return time_limit >= RELAX_SECONDS_PER_VISIT * visits


def search_narrow(time_limit: float, visits: int) -> bool:
    """Whether the joint routings of a shared fleet search a narrower neighbourhood with a short
    late-acceptance history (:data:`NARROW_NEIGHBOURS` nearest visits, a history of
    :data:`NARROW_HISTORY`), closer to a plain descent: when the time limit gives less than
    :data:`NARROW_SECONDS_PER_VISIT` per visit. In seconds on hundreds of visits, PyVRP's long
    default history lets the search wander above where it started. Measured at 60 s, seeds 1-4:
    pr10 (864 visits) 3.7-4.3% above the best-known in seven runs against 4.3-4.7% in five with the
    defaults, its first joint routing (24 s) 4.3-5.1% against 7.0%; pr09 (648, relaxed) 2.33-3.28%
    against 3.06-3.52%. With more time per visit the defaults do better (history 15 on p10, 174
    visits in two runs of 30 s: 5.9% against 3.1-3.3%)."""
    return time_limit < NARROW_SECONDS_PER_VISIT * visits


def restarts_pay(time_limit: float, visits: int) -> bool:
    """Whether a shared fleet over several days is planned :data:`RESTARTS` times in shares of
    the time (:meth:`Engine._run_restarts`): when each share gives
    :data:`RESTART_SECONDS_PER_VISIT` or more per visit (so each run still relaxes its first
    joint routing: :func:`relax_pays`); at 60 s, up to 333 visits (Cordeau's p01-p12, p14-p19,
    p21-p32, pr01-pr03, pr07; not p20, 336). Measured at 60 s, seeds 1 and 2, once against twice:
    p30 (270 visits) 3.71 / 1.36% above the best-known against 2.28 / 2.07%: larger plans need
    the whole time to route well. p23 (312), seeds 1-8: once mean 3.27%, twice 2.35%, hence
    0.09 s a visit (the README has the history of this threshold)."""
    return RESTARTS > 1 and time_limit / RESTARTS >= RESTART_SECONDS_PER_VISIT * visits and \
        relax_pays(time_limit / RESTARTS, visits)


def short_of_room(unplanned: list) -> int:
    """Visits of ``unplanned`` (customer, day, code, reason) left out for want of room."""
    return sum(1 for u in unplanned if u[1] is not None and u[2] == REASON_CAPACITY)


def _worth_running(rounds: int, rate: float, other_rate: float, skipped: int) -> bool:
    """Whether a step run between rounds (a polish, or destroy-and-repair beside joint routing)
    runs this round: always in the first; then while its last run gained at least as much per
    second (``rate``) as the other step's (``other_rate``), and after three rounds skipped in a
    row (the rates change as the search goes)."""
    return rounds == 1 or rate >= other_rate or skipped >= 3


def _free_day(opts: list[Pattern]) -> bool:
    """True for a customer seen once whose day is free among several, all equally preferred."""
    return len(opts) > 1 and all(len(p.days) == 1 and not p.short and p.penalty == opts[0].penalty for p in opts)


class _State:
    """Search state over routed days. ``at[(c, d)]`` is the rep visiting ``c`` on day ``d``."""

    def __init__(self, eng: Engine, options, eligible, rep_of, pattern, routes):
        self.eng = eng
        self.inst = eng.inst
        self.own = eng.inst.ownership
        self.options = options
        self.eligible = eligible
        self.rep_of = rep_of
        self.pattern = pattern
        self.pattern_penalty = sum(p.penalty for p in pattern.values())  # kept up to date by _set
        self.routes = routes
        self.at: dict[Key, int] = {}
        for (r, d), rt in routes.items():
            for c in rt.seq:
                self.at[(c, d)] = r
        self.changed: set[Key] = set()
        self.unplanned: list[tuple[int, int | None, str, str]] = []
        self.stats = {"pattern_moves": 0, "rep_moves": 0, "repaired": 0, "polished": 0}
        self.polished_once = False
        self.work = np.zeros(len(self.inst.reps))
        for (r, _d), rt in self.routes.items():
            self.work[r] += self._span(rt)
        self.total = sum(rt.cost for rt in self.routes.values())
        self._ins_cache: dict[tuple, tuple] = {}
        self._est_cache: dict[tuple, tuple] = {}
        self._near = None
        self._phase: list = [None, 0]  # destroy-and-repair phase (start, end) and its iterations so far
        self._nearest: dict[int, list[int]] = {}
        self.best: tuple[float, tuple, float] | None = None  # (objective, state, its route part)
        # Balanced days (the rules: workloads balanced between reps and days): while improving,
        # no day of a rep may grow past 1.2 x its average day (or half a working day), nor fall
        # under its average day / 1.2 (days already outside may not move further out); the average
        # is the current one (:meth:`rebalance`).
        self.balance = False
        self.rebalance()

    def rebalance(self) -> None:
        """Balanced-day limits (and each rep's share of the work) from the current routes. Called
        as the search goes (each improvement pass, each destroy-and-repair round): limits kept from
        the first, dearer plan would hold every day above its old average / 1.2, and block most
        moves that shorten days."""
        self.day_cap = np.zeros(len(self.inst.reps))
        self.day_floor = np.zeros(len(self.inst.reps))
        for r, rd in enumerate(self.inst.reps):
            spans = [self._span(self.routes[(r, d)]) for d in rd.day_offsets if (r, d) in self.routes]
            if spans:
                # a light schedule may still fill half a working day: balance matters when days are full
                mean = sum(spans) / len(rd.day_offsets)
                full = BALANCE * mean > 0.5 * rd.capacity_s
                self.day_cap[r] = BALANCE * mean if full else 0.5 * rd.capacity_s
                self.day_floor[r] = mean / BALANCE if full else 0.0
        cap = np.array([r.capacity_s * len(r.day_offsets) for r in self.inst.reps], dtype=float)
        self.target = self.work.sum() * cap / max(cap.sum(), 1.0)

    @staticmethod
    def _span(rt: DayRoute) -> float:
        return rt.timeline.back - rt.timeline.depart if rt.seq else 0.0

    def _visit_days(self, c: int) -> list[int]:
        return [d for d in self.pattern[c].days if (c, d) in self.at]

    def _best_on_day(self, c: int, r: int | None, d: int, tries: int = 3) -> tuple[float, Key, DayRoute] | None:
        """Cheapest insertion of ``c`` on day ``d``: into rep ``r``'s route, or (``r`` None, shared
        fleet) into any vehicle's route that day."""
        best = None
        for v in ([r] if r is not None else self.eng.vehicles_on(d)):
            rt = self.routes.get((v, d))
            if rt is None:
                continue
            key = (c, v, d, tries)
            hit = self._ins_cache.get(key)
            if hit is not None and hit[0] is rt:  # the route has not changed since
                ins = hit[1]
            else:
                ins = best_insertion(self.inst, v, rt, c, tries=tries, d=d)
                self._ins_cache[key] = (rt, ins)
            if ins is not None and self.balance and self.own and self._span(ins[1]) > self.day_cap[v]:
                ins = None  # the day would grow past the rep's balanced day
            if ins is not None and (best is None or ins[0] < best[0]):
                best = (ins[0], (v, d), ins[1])
            if r is None and not rt.seq:
                break  # empty vehicles of a day are alike: trying one is enough
        return best

    def _estimate(self, c: int, r: int | None, p: Pattern) -> float:
        """Quick lower bound of :meth:`_try_place`'s cost (no timeline: see
        :func:`~planner.pipeline.routes.insertion_estimate`)."""
        total = 0.0
        for d in p.days:
            best = float("inf")
            for v in ([r] if r is not None else self.eng.vehicles_on(d)):
                rt = self.routes.get((v, d))
                if rt is None:
                    continue
                key = (c, v, d)
                hit = self._est_cache.get(key)
                if hit is not None and hit[0] is rt:
                    e = hit[1]
                else:
                    e = insertion_estimate(self.inst, v, rt, c)
                    self._est_cache[key] = (rt, e)
                best = min(best, e)
                if r is None and not rt.seq:
                    break
            total += best
            if total == float("inf"):
                break
        return total

    def _candidates(self, c: int, allow_rep_change: bool, keep: int | None = None):
        """The ``keep`` (default :data:`EXACT_CANDIDATES`) most promising (rep, pattern)
        alternatives of ``c`` by estimate."""
        keep = EXACT_CANDIDATES if keep is None else keep
        alts = list(self._alternatives(c, allow_rep_change))
        if len(alts) <= keep:
            return alts
        scored = sorted(((self._estimate(c, r, p) + p.penalty * 0.5, i) for i, (r, p) in enumerate(alts)))
        return [alts[i] for e, i in scored[:keep] if e < float("inf")] or [alts[scored[0][1]]]

    def _try_place(self, c: int, r: int | None, p: Pattern, bound: float = NEVER) -> tuple[float, dict] | None:
        """Exact cost of inserting ``c`` on every day of ``p`` (rep ``r``, or any vehicle if None).
        Returns (cost increase, new routes) or None if a day cannot take it, or if the days priced
        so far already cost ``bound`` or more (an insertion never makes a day cheaper, so the
        rest could only add: the caller has a better option)."""
        total = 0.0
        new = {}
        for d in p.days:
            ins = self._best_on_day(c, r, d)
            if ins is None:
                return None
            total += ins[0]
            if total >= bound:
                return None
            new[ins[1]] = ins[2]
        return total, new

    def _remove(self, c: int) -> tuple[float, dict]:
        gain = 0.0
        new = {}
        for d in self._visit_days(c):
            k = (self.at[(c, d)], d)
            g, nr = removal(self.inst, k[0], self.routes[k], c, d)
            gain += g
            new[k] = nr
        return gain, new

    def _apply(self, new: dict) -> None:
        for k, rt in new.items():
            old = self.routes[k]
            r, d = k
            self.work[r] += self._span(rt) - self._span(old)
            self.total += rt.cost - old.cost
            for x in old.seq:
                if self.at.get((x, d)) == r:
                    del self.at[(x, d)]
            for x in rt.seq:
                self.at[(x, d)] = r
            rt.version = old.version + 1
            self.routes[k] = rt
            self.changed.add(k)

    def _alternatives(self, c: int, allow_rep_change: bool):
        if not self.own:
            for p in self.options[(c, self.eligible[c][0])]:
                yield None, p
            return
        reps = [self.rep_of[c]]
        if allow_rep_change and self.inst.pinned[c] is None:
            reps += [r for r in self._neighbour_reps(c) if r != self.rep_of[c] and r in self.eligible[c]]
        for r in reps:
            for p in self.options[(c, r)]:
                yield r, p

    def _neighbour_reps(self, c: int, k: int = 6) -> list[int]:
        order = self._nearest.get(c)
        if order is None or len(order) < k:  # (the nearest customers never change: sorted once)
            order = self._nearest[c] = [int(o) for o in np.argsort(self.inst.dur_s[c, : self.inst.n],
                                                                   kind="stable")[1: max(k, 10) + 1]]
        out = []
        for o in order[:k]:
            r = self.rep_of.get(o)
            if r is not None and r not in out:
                out.append(r)
        return out

    def _set(self, c: int, r: int | None, p: Pattern) -> None:
        if r is not None:
            self.rep_of[c] = r
        old = self.pattern.get(c)
        self.pattern_penalty += p.penalty - (old.penalty if old is not None else 0.0)
        self.pattern[c] = p

    def repair(self, dropped: list[tuple[int, int]]) -> None:
        """Re-place customers whose visits were dropped by routing; report what cannot be."""
        by_c: dict[int, list[int]] = {}
        for c, d in dropped:
            by_c.setdefault(c, []).append(d)
        for c in sorted(by_c, key=lambda c: (c not in self.inst.priority, c)):
            gain, rem = self._remove(c)
            saved = {k: self.routes[k] for k in rem}
            self.routes.update(rem)
            best = None
            for r, p in self._alternatives(c, allow_rep_change=True):
                placed = self._try_place(c, r, p)
                if placed is not None:
                    score = placed[0] - gain + p.penalty
                    if best is None or score < best[0]:
                        best = (score, r, p, placed[1])
            self.routes.update(saved)
            if best is not None:
                self._apply(rem)
                self._apply(best[3])
                self._set(c, best[1], best[2])
                self.stats["repaired"] += 1
                continue
            # keep the visits that were routed; the missing ones get a last chance at the end
            for d in sorted(set(by_c[c])):
                self.unplanned.append((c, d, REASON_CAPACITY, "no room"))

    def _placements(self, c: int, reps: int = 4) -> list[tuple[int | None, Pattern]]:
        """(rep, pattern) options for a customer with no place yet: with ownership its pinned rep,
        or the reps of its nearest customers and the nearest homes (at most ``reps``, those not
        over their share of the work first); the most promising patterns by estimate."""
        inst = self.inst
        if not self.own:
            alts = [(None, p) for p in self.options[(c, self.eligible[c][0])]]
        else:
            if inst.pinned[c] is not None:
                cands = [inst.pinned[c]] if inst.pinned[c] in self.eligible[c] else []
            else:
                near = [r for r in self._neighbour_reps(c, k=10) if r in self.eligible[c]]
                homes = sorted(self.eligible[c], key=lambda r: (inst.dur_s[c, inst.start_loc(r)], r))
                cands = list(dict.fromkeys(near + homes))
                fits = [r for r in cands if self.work[r] <= 1.10 * self.target[r] + 1]
                cands = (fits + [r for r in cands if r not in fits])[:reps]
            alts = [(r, p) for r in cands for p in self.options[(c, r)]]
        if len(alts) <= 2 * EXACT_CANDIDATES:
            return alts
        scored = sorted((self._estimate(c, r, p) + p.penalty * 0.5, i) for i, (r, p) in enumerate(alts))
        return [alts[i] for e, i in scored[:2 * EXACT_CANDIDATES] if e < float("inf")] or [alts[scored[0][1]]]

    def place_new(self, customers: list[int]) -> None:
        """Place customers that have no visits yet (a re-plan's new or changed customers) at their
        cheapest (rep, pattern) by exact insertion, pattern penalties included. One that fits
        nowhere keeps the days that fit on its most promising option; the others are listed
        unplanned (and get a last chance at the end)."""
        for c in customers:
            alts = self._placements(c)
            best = None
            for r, p in alts:
                placed = self._try_place(c, r, p)
                if placed is not None:
                    score = placed[0] + p.penalty * 0.5
                    if best is None or score < best[0]:
                        best = (score, r, p, placed[1])
            if best is not None:
                self._apply(best[3])
                self._set(c, best[1], best[2])
                self.stats["placed"] = self.stats.get("placed", 0) + 1
                continue
            if not alts:
                continue
            r, p = alts[0]
            self._set(c, r, p)
            for d in p.days:
                ins = self._best_on_day(c, r, d, tries=10)
                if ins is not None:
                    self._apply({ins[1]: ins[2]})
                else:
                    self.unplanned.append((c, d, REASON_CAPACITY, "no room"))

    def price_alternatives(self, c: int, reps: int = 6) -> list[tuple[int | None, Pattern, float | None]]:
        """What each (rep, pattern) option of customer ``c`` would cost against its current place:
        (rep, pattern, extra cost, or None if some day of it cannot take the visit), current first.
        Nothing is changed."""
        gain, rem = self._remove(c) if c in self.pattern else (0.0, {})
        saved = {k: self.routes[k] for k in rem}
        self.routes.update(rem)
        cur = (self.rep_of.get(c) if self.own else None, self.pattern.get(c))
        if self.own and c in self.rep_of:
            homes = sorted(self.eligible[c], key=lambda r: (self.inst.dur_s[c, self.inst.start_loc(r)], r))
            cands = [self.rep_of[c]] + [r for r in self._neighbour_reps(c, k=10) + homes[:2] if r != self.rep_of[c]]
            cands = [r for r in dict.fromkeys(cands) if r in self.eligible[c]][:reps]
            if self.inst.pinned[c] is not None:
                cands = [self.inst.pinned[c]]
            alts = [(r, p) for r in cands for p in self.options[(c, r)]]
        else:
            alts = self._placements(c, reps=reps)
        out = []
        try:
            for r, p in alts:
                placed = self._try_place(c, r, p)
                out.append((r, p, None if placed is None else placed[0] - gain + 0.5 * p.penalty
                            - 0.5 * (cur[1].penalty if cur[1] is not None else 0.0)))
        finally:
            self.routes.update(saved)
        out.sort(key=lambda o: ((o[0], o[1]) != cur, o[2] is None, o[2] if o[2] is not None else 0.0))
        return out

    def _relocate_other(self, c: int, d: int) -> bool:
        """Make room for ``c`` on day ``d`` (its rep's route, or any vehicle's) by moving one other
        customer of that day entirely to another of its patterns; apply and return True if it works."""
        r_c = self.rep_of[c] if self.own else None
        keys = [(r_c, d)] if self.own else [(v, d) for v in self.eng.vehicles_on(d)]
        for k in keys:
            route = self.routes[k]
            for x in sorted(route.seq, key=lambda x: (-int(self.inst.service_s[x]), x)):
                gain, rem = self._remove(x)
                saved = {kk: self.routes[kk] for kk in rem}
                self.routes.update(rem)
                ins_c = best_insertion(self.inst, k[0], self.routes[k], c, tries=len(route.seq) + 1, d=d)
                done = False
                if ins_c is not None:
                    before = self.routes[k]
                    self.routes[k] = ins_c[1]
                    r_x = self.rep_of[x] if self.own else None
                    for rr, p in self._alternatives(x, allow_rep_change=False):
                        if p == self.pattern[x] or d in p.days:
                            continue
                        placed = self._try_place(x, r_x, p)
                        if placed is not None:
                            self.routes[k] = before
                            self.routes.update(saved)
                            self._apply(rem)
                            self._apply({k: ins_c[1]})
                            self._apply(placed[1])
                            self._set(x, r_x, p)
                            self.stats["repaired"] += 1
                            done = True
                            break
                    if not done:
                        self.routes[k] = before
                if done:
                    return True
                self.routes.update(saved)
        return False

    def reinsert_unplanned(self) -> None:
        """Last chance for each unplanned visit: direct insertion at any position, else making
        room by moving one customer of that day to another pattern. The reasons left are
        written from the final routes."""
        left = []
        for c, d, code, reason in self.unplanned:
            if d is None or code != REASON_CAPACITY:
                left.append((c, d, code, reason))
                continue
            r = self.rep_of[c] if self.own else None
            ins = self._best_on_day(c, r, d, tries=50)
            if ins is not None:
                self._apply({ins[1]: ins[2]})
                self.stats["repaired"] += 1
                continue
            if self._relocate_other(c, d):
                continue
            if self.own:
                rt = self.routes[(r, d)]
                hours = self._span(rt) / 3600
                rd = self.inst.reps[r]
                week = [k for k in rd.day_offsets if k // 7 == d // 7]
                booked = sum(self._span(self.routes[(r, k)]) for k in week) / 3600
                avail = len(week) * rd.capacity_s / 3600
                over = booked + self.inst.service_s[c] / 3600 - avail
                where = (f"rep {rd.rep.id}'s day ({len(rt.seq)} visits, {hours:.1f} h of work; the week has "
                         f"{booked:.1f} h booked of {avail:.1f} h available"
                         + (f", exceeded by {over:.1f} h with this visit)" if over > 0 else ")"))
            else:
                where = "any vehicle's route that day"
            left.append((c, d, REASON_CAPACITY,
                         f"no room on {where}: the visit fits no position within its opening hours, the "
                         f"working day, lunch and capacity, and no other visit of that day can move to make room"))
        self.unplanned = left

    def improve(self, deadline: float) -> bool:
        """Pattern-change and rep-change moves priced on routed days; first improvement.
        Returns True if anything moved."""
        inst = self.inst
        order = [int(c) for c in self.eng.rng.permutation(sorted(self.pattern))]
        partial = {u[0] for u in self.unplanned}
        any_move = False
        for _pass in range(IMPROVE_PASSES):
            improved = False
            self.rebalance()  # the balanced-day limits follow the average day as it shrinks
            for c in order:
                if time.monotonic() > deadline:
                    return any_move
                if c in partial:
                    continue
                cur_r, cur_p = (self.rep_of[c] if self.own else None), self.pattern[c]
                gain, rem = self._remove(c)
                if not self._floors_kept(rem):
                    continue
                saved = {k: self.routes[k] for k in rem}
                self.routes.update(rem)
                best = None
                for r, p in self._candidates(c, allow_rep_change=True):
                    if r == cur_r and p == cur_p:
                        continue
                    if r != cur_r and self.work[r] + len(p.days) * inst.service_s[c] > 1.10 * self.target[r] + 1:
                        continue
                    extra = (p.penalty - cur_p.penalty) * 0.5
                    bound = gain - extra + min(0.0, best[0] if best else 0.0)
                    if self._estimate(c, r, p) >= bound:
                        continue  # even its lower bound gains nothing (or less than the best move)
                    placed = self._try_place(c, r, p, bound=bound)
                    if placed is None:
                        continue
                    delta = placed[0] - gain + extra
                    if delta < -1e-6 and (best is None or delta < best[0]):
                        best = (delta, r, p, placed[1])
                if best is None and not self.own:  # shared fleet: same pattern, better vehicles
                    placed = self._try_place(c, None, cur_p)
                    if placed is not None and placed[0] - gain < -1e-6:
                        best = (placed[0] - gain, None, cur_p, placed[1])
                self.routes.update(saved)
                if best is not None:
                    self._apply(rem)
                    self._apply(best[3])
                    if self.own and best[1] != cur_r:
                        self.stats["rep_moves"] += 1
                    else:
                        self.stats["pattern_moves"] += 1
                    self._set(c, best[1], best[2])
                    improved = any_move = True
            if not improved:
                break
        return any_move

    def _floors_kept(self, new: dict, before: dict | None = None) -> bool:
        """With balancing on, no day may become lighter than the rep's average day / 1.2 (days
        already lighter may not lose more): reps work their days, not a few long ones."""
        if not (self.balance and self.own):
            return True
        before = before if before is not None else self.routes
        for k, rt in new.items():
            old = before.get(k)
            floor = self.day_floor[k[0]]
            if old is not None and self._span(rt) < min(floor, self._span(old)):
                return False
        return True

    def _snapshot(self) -> tuple:
        return (dict(self.routes), dict(self.at), dict(self.pattern), dict(self.rep_of), self.work.copy(),
                set(self.changed), self.total, list(self.unplanned), self.pattern_penalty)

    def _restore(self, snap: tuple) -> None:
        (self.routes, self.at, self.pattern, self.rep_of, self.work, self.changed, self.total, self.unplanned,
         self.pattern_penalty) = (dict(snap[0]), dict(snap[1]), dict(snap[2]), dict(snap[3]), snap[4].copy(),
                                  set(snap[5]), snap[6], list(snap[7]), snap[8])

    def _penalties(self) -> float:
        """Pattern preferences (half weight) and, far above any route cost, each visit left
        unplanned for want of room (so destroy-and-repair takes any state that plans more)."""
        missing = short_of_room(self.unplanned)
        return 0.5 * self.pattern_penalty + MISSING_PENALTY * missing

    def note_best(self) -> bool:
        """Remember the current state if it is the best so far; True if it is."""
        val = self.total + self._penalties()
        if self.best is None or val < self.best[0] - 1e-6:
            self.best = (val, self._snapshot(), self.total + 0.5 * self.pattern_penalty)
            return True
        return False

    def restore_best(self) -> None:
        """Go back to the best state seen by destroy-and-repair and polish."""
        if self.best is not None:
            self.note_best()
            self._restore(self.best[1])

    def lns(self, deadline: float, max_iters: int | None = None,
            schedule: tuple[float, float] | None = None) -> int:
        """Destroy and repair: remove a customer and some of its neighbours from all their days,
        put them back with the best pattern (and rep) by exact insertion, highest regret first.
        Record-to-record acceptance: a worse state is kept while it stays within a threshold of
        the best, the threshold shrinking to 0 over ``schedule`` (start, end) — the whole
        destroy-and-repair phase, which may span several calls. :meth:`restore_best` returns to
        the best state seen. Returns the number of improvements of the best."""
        inst = self.inst
        # customers with visits left unplanned take part too: a repair that places them all wins
        customers = sorted(self.pattern)
        if len(customers) < 2:
            return 0
        if self._near is None or self._near[0] != customers:
            arr = np.array(customers)
            self._near = (customers, np.argsort(inst.dur_s[np.ix_(arr, arr)], axis=1, kind="stable")[:, :17],
                          {c: i for i, c in enumerate(customers)})
        _, near, pos = self._near
        rng = self.eng.rng
        self.note_best()
        self.rebalance()
        t_start, t_end = schedule or (time.monotonic(), deadline)
        if self._phase[0] != (t_start, t_end):  # iterations of this phase (it may span several calls)
            self._phase = [(t_start, t_end), 0]
        phase = self._phase
        improved = it = 0
        busy = sorted(k for k, rt in self.routes.items() if rt.seq)
        worst = self._worst_placed(customers) if WORST_SEED and self.own else []
        route_share = ROUTE_DESTROY_OWNED if self.own else ROUTE_DESTROY
        while time.monotonic() < deadline and (max_iters is None or it < max_iters):
            it += 1
            if it % 50 == 0:
                busy = sorted(k for k, rt in self.routes.items() if rt.seq)
                worst = self._worst_placed(customers) if WORST_SEED and self.own else []
            if max_iters is not None and deadline == NEVER:
                frac = it / max_iters
                per_customer = max_iters / len(customers)
            else:
                spent = time.monotonic() - t_start
                frac = min(1.0, spent / max(1e-3, t_end - t_start))
                phase[1] += 1  # the phase's iterations so far, at the pace so far, over the whole phase
                per_customer = phase[1] * (t_end - t_start) / spent / len(customers) \
                    if phase[1] >= 20 and spent > 0 else None
            threshold = acceptance_share(frac, len(busy), self.own, per_customer)
            if rng.random() < route_share and busy:  # a whole route: lets a cluster change day
                key = busy[int(rng.integers(len(busy)))]
                group = [c for c in self.routes[key].seq if c in pos][:25]
                if not group:
                    continue
            else:  # a customer (often one of the worst placed) and some of its neighbours
                if worst and rng.random() < WORST_SEED:
                    seed = worst[int(rng.integers(len(worst)))]
                else:
                    seed = customers[int(rng.integers(len(customers)))]
                k = int(rng.integers(1, min(6 if self.own else 12, len(customers) - 1) + 1))
                pool = [customers[j] for j in near[pos[seed]][:max(k, 4) + 5] if customers[j] != seed]
                group = [seed] + [int(x) for x in rng.choice(pool, size=min(k, len(pool)), replace=False)]
            group = list(dict.fromkeys(group))  # ties in distance can list a customer twice
            snap = self._snapshot()
            for c in group:
                _gain, rem = self._remove(c)
                self._apply(rem)
            ok = self._reinsert(group)
            if ok:
                touched = {k: rt for k, rt in self.routes.items() if snap[0].get(k) is not rt}
                if ROUTE_MOVES and self.own:  # the repaired days' visit order, improved before acceptance
                    touched.update(self.improve_orders(touched))
                ok = self._floors_kept(touched, snap[0])
            val = self.total + self._penalties()
            if ok and self.note_best():
                improved += 1
                self.stats["lns_moves"] = self.stats.get("lns_moves", 0) + 1
            elif not ok or val > self.best[0] + threshold * self.best[2] + 1e-9:
                self._restore(snap)
        self.stats["lns_iterations"] = self.stats.get("lns_iterations", 0) + it
        return improved

    def improve_orders(self, routes: dict[Key, DayRoute]) -> dict[Key, DayRoute]:
        """Improve the visit order of ``routes`` (days of this state) by or-opt and 2-opt moves
        (:func:`~planner.pipeline.routes.improve_order`) and apply the better ones; returns them.
        Destroy-and-repair builds days by insertion: their order is improved before the state is
        judged, so acceptance compares days as a polish would leave them."""
        better = {k: nr for k, rt in routes.items() if (nr := improve_order(self.inst, k[0], rt, k[1])) is not rt}
        if better:
            self._apply(better)
            self.stats["order_moves"] = self.stats.get("order_moves", 0) + len(better)
        return better

    def _worst_placed(self, customers: list[int]) -> list[int]:
        """The quarter of ``customers`` whose visits cost most where they are: the km their
        visits add to their routes (in and out legs less the direct leg), per visit."""
        inst = self.inst
        detour: dict[int, float] = {}
        count: dict[int, int] = {}
        for (r, _d), rt in self.routes.items():
            if not rt.seq:
                continue
            a, b, leg_km, _s, _idle = route_legs(inst, r, rt)
            extra = leg_km[:-1] + leg_km[1:] - inst.dist_km[a[:-1], b[1:]]
            for c, x in zip(rt.seq, extra.tolist()):
                detour[c] = detour.get(c, 0.0) + x
                count[c] = count.get(c, 0) + 1
        ranked = sorted((c for c in customers if c in detour), key=lambda c: (-detour[c] / count[c], c))
        return ranked[: max(1, len(ranked) // 4)]

    def _options_for(self, c: int) -> list[tuple]:
        """Feasible placements of removed customer ``c``: (score, rep, pattern, new routes), best
        first. The best two are exact; a placement that cannot beat the second best so far is
        left out once its first days show it (see :meth:`_try_place`'s ``bound``)."""
        inst = self.inst
        cur_r = self.rep_of.get(c) if self.own else None
        opts = []
        second = NEVER  # only the best two matter (regret, then the choice): a costlier one is cut short
        for r, p in self._candidates(c, allow_rep_change=True):
            if self.own and r != cur_r and \
                    self.work[r] + len(p.days) * inst.service_s[c] > 1.10 * self.target[r] + 1:
                continue
            if second < NEVER and self._estimate(c, r, p) >= second - p.penalty * 0.5:
                continue  # even its lower bound cannot beat the second best
            placed = self._try_place(c, r, p, bound=second - p.penalty * 0.5)
            if placed is not None:
                opts.append((placed[0] + p.penalty * 0.5, r, p, placed[1]))
                opts.sort(key=lambda o: o[0])
                second = opts[1][0] if len(opts) > 1 else NEVER
        return opts

    def _reinsert(self, group: list[int]) -> bool:
        """Put removed customers back, the one with the largest regret (second-best minus best
        placement, measured before any is placed) first, each at its best placement at its turn.
        False if one cannot be placed."""
        regret = {}
        for c in group:
            opts = self._options_for(c)
            if not opts:
                return False
            regret[c] = (opts[1][0] - opts[0][0]) if len(opts) > 1 else 1e12
        for c in sorted(group, key=lambda c: -regret[c]):
            opts = self._options_for(c)
            if not opts:
                return False
            _score, r, p, new = opts[0]
            self._apply(new)
            self._set(c, r, p)
            if any(u[0] == c for u in self.unplanned):  # all its visits are placed now
                self.unplanned = [u for u in self.unplanned if u[0] != c or u[1] is None]
        return True

    def polish(self, deadline: float) -> bool:
        """Re-optimise the days changed since their last polish (all days the first time) with the
        routing engine, warm-started; keep the result if cheaper. Returns True if any improved."""
        if self.own:
            groups = sorted(([k[0]], k[1]) for k, rt in self.routes.items()
                            if len(rt.seq) > 2 and (k in self.changed or not self.polished_once))
        else:
            days = sorted({d for (_r, d), rt in self.routes.items() if rt.seq and (
                not self.polished_once or any((v, d) in self.changed for v in self.eng.vehicles_on(d)))})
            groups = [(self.eng.vehicles_on(d), d) for d in days]
        self.polished_once = True
        self.changed = set()
        better = False
        for i, (vehicles, d) in enumerate(groups):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            budget = 1.0 if left == NEVER else max(0.02, min(1.0 if self.own else 30.0, left / max(1, len(groups) - i)))
            old = {r: self.routes[(r, d)] for r in vehicles}
            members = [c for r in vehicles for c in old[r].seq]
            if not members:
                continue
            new, dropped = self.eng.route_day(vehicles, members, guided=not self.own, budget=budget,
                                              initial={r: old[r].seq for r in vehicles}, day=d)
            if not dropped and sum(rt.cost for rt in new.values()) < sum(rt.cost for rt in old.values()) - 1e-9:
                self._apply({(r, d): new[r] for r in vehicles})
                self.stats["polished"] += 1
                better = True
        self.changed = set()
        return better
