"""Shared fleet over several days with time enough: the plan is made twice, each run with its own
seed in half the time, and the better plan is kept."""
from __future__ import annotations

from planner.domain import REASON_CAPACITY
from planner.pipeline import engine
from planner.pipeline.engine import EngineResult
from planner.pipeline.routes import make_route

from .helpers import fleet_engine

_engine = fleet_engine


def _days(routes, c):
    return sorted(d for (_v, d), rt in routes.items() if c in rt.seq)


def test_restarts_pay_with_0_09_s_a_visit_in_each_half_of_the_time():
    # two runs of 30 s at 0.09 s a visit: 333 visits at most (29.97 s; 334 need 30.06 s)
    assert engine.restarts_pay(60.0, 333) and not engine.restarts_pay(60.0, 334)
    # Cordeau p30: 270 and p23: 312 restart, p20: 336 does not
    assert engine.restarts_pay(60.0, 270) and engine.restarts_pay(60.0, 312) and not engine.restarts_pay(60.0, 336)
    assert engine.restarts_pay(30.0, 166) and not engine.restarts_pay(30.0, 167)  # 14.94 and 15.03 s needed


def test_the_plan_is_made_twice_and_the_cheaper_one_kept():
    # A (10, 0) on days 0 and 3, B (0, 10) on days 1 and 2, X (10, 0) and Y (0, 5) on 0 2 or 1 3,
    # one vehicle a day. Best: X and Y on different patterns, e.g. X 1 3 and Y 0 2: day 0 A, Y
    # (5 + 11.18 + 10), day 1 B, X (10 + 14.14 + 10), day 2 B, Y (20, Y on the way), day 3 A, X
    # (20): 100.32 km. Both on 0 2 cost 102.36 (B, X, Y on day 2: 36.18).
    spec = {"A": ((10, 0), ((0, 3),), 1), "B": ((0, 10), ((1, 2),), 1),
            "X": ((10, 0), ((0, 2), (1, 3)), 1), "Y": ((0, 5), ((0, 2), (1, 3)), 1)}
    eng = _engine(spec)
    eng.deterministic = True
    res = eng.run()
    assert res.stats["restarts"] == 2 and len(res.stats["restart_costs"]) == 2
    cost = sum(rt.cost for rt in res.routes.values())
    assert round(cost, 2) == 100.32 and round(min(res.stats["restart_costs"]), 2) == 100.32
    for c, p in res.pattern.items():
        assert _days(res.routes, c) == list(p.days)
    assert res.unplanned == []


def test_without_restarts_the_plan_is_made_once(monkeypatch):
    spec = {"A": ((10, 0), ((0, 3),), 1), "X": ((10, 0), ((0, 2), (1, 3)), 1)}
    eng = _engine(spec)
    eng.deterministic = True
    monkeypatch.setattr(engine, "RESTARTS", 1)
    res = eng.run()
    assert "restarts" not in res.stats
    assert round(sum(rt.cost for rt in res.routes.values()), 2) == 60.0  # either pattern: one day with A (free), one alone


def test_the_run_with_fewer_visits_left_out_for_want_of_room_wins_over_a_cheaper_one(monkeypatch):
    # the first run (seed 1) plans A alone on day 0 (20 km) and leaves a visit out for want of
    # room; the second (seed 1010) plans A on days 0 and 3 (40 km) and leaves nothing: it wins
    spec = {"A": ((10, 0), ((0, 3),), 1), "X": ((10, 0), ((0, 2), (1, 3)), 1)}
    eng = _engine(spec)
    inst = eng.inst
    seeds = []

    def fake_run_once(self, eligible, options, unplanned):
        seeds.append(self.seed)
        days = (0,) if len(seeds) == 1 else (0, 3)
        routes = {(0, d): make_route(inst, 0, [0] if d in days else [], d) for d in range(4)}
        left = [(0, 3, REASON_CAPACITY, "no room")] if len(seeds) == 1 else []
        return EngineResult({}, {}, routes, unplanned + left, {"seconds": 0.0})

    monkeypatch.setattr(engine.Engine, "_run_once", fake_run_once)
    res = eng.run()
    assert seeds == [1, 1010]
    assert res.stats["restart_costs"] == [20.0, 40.0]
    assert round(sum(rt.cost for rt in res.routes.values()), 2) == 40.0 and res.unplanned == []
