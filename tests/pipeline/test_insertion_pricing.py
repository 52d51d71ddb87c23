"""Pricing a removed customer's placements: the best two exactly; dearer ones may be cut short."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

import pytest

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, VisitPolicy
from planner.pipeline.engine import _State
from planner.pipeline.routes import make_route

from .helpers import planar_engine

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 30)}))


def test_options_of_a_free_day_customer_best_two_exact():
    # rep at (0, 0), 1 per km, nothing per hour. A (10, 0) on Monday, B (0, 10) on Tuesday, Wednesday
    # empty; X at (10, 5) may take any of the three days.
    spec = {"A": ((10, 0), ((0,),)), "B": ((0, 10), ((1,),)), "X": ((10, 5), ((0,), (1,), (2,)))}
    customers = tuple(Customer(k, k, to_location(*xy), "X", visit_minutes=30, allowed_days=p, rep_id="R")
                      for k, (xy, p) in spec.items())
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0, 1, 2}), cost_per_km=1.0, cost_per_hour=0.0,
              lunch=None)
    eng = planar_engine(Region(customers, (rep,), POLICY), MONDAY)
    eligible, options, _ = eng.eligibility()
    inst = eng.inst
    routes = {(0, 0): make_route(inst, 0, [0], 0), (0, 1): make_route(inst, 0, [1], 1),
              (0, 2): make_route(inst, 0, [], 2)}
    state = _State(eng, options, eligible, {0: 0, 1: 0, 2: 0},
                   {0: options[(0, 0)][0], 1: options[(1, 0)][0]}, routes)
    opts = state._options_for(2)
    r5 = 125 ** 0.5
    # Monday 0 -> A -> X -> 0 = 10 + 5 + sqrt(125) against 20; Tuesday 0 -> B -> X -> 0 = 10 + 2 sqrt(125)
    # against 20; Wednesday 0 -> X -> 0 = 2 sqrt(125) against 0 (dearer than the second: may be cut)
    assert [(o[2].days, round(o[0], 6)) for o in opts[:2]] == [((0,), round(r5 - 5, 6)), ((1,), round(2 * r5 - 10, 6))]
    assert all(o[0] == pytest.approx(2 * r5) for o in opts[2:])
    assert state._try_place(2, 0, opts[0][2], bound=1.0) is None  # a bound under its cost cuts it short
    assert state._try_place(2, 0, opts[0][2])[0] == pytest.approx(r5 - 5)


def test_plain_python_pricing_of_small_routes_matches_numpy(monkeypatch):
    # Routes of fewer than SMALL visits are priced in plain Python; longer ones with numpy. Both
    # must give the same figures: every customer of a generated region priced into every route
    # built from runs of its customers, once each way.
    from planner import synthetic
    from planner.pipeline import routes as R

    region = synthetic.generate_region(40, 2, seed=7)
    eng = planar_engine(region, MONDAY)
    inst = eng.inst
    built = []
    for r in range(len(inst.reps)):
        for k, start in enumerate(range(0, 36, 6)):
            seq = list(range(start, start + 2 + k % 4))
            rt = make_route(inst, r, seq, 0)
            if rt is not None:
                built.append((r, rt))
    assert len(built) >= 8

    def price() -> list:
        out = []
        for r, rt in built:
            rt.legs = rt.plain = None
            for c in range(inst.n):
                if c in rt.seq:
                    continue
                ins = R.best_insertion(inst, r, rt, c, tries=3, d=0)
                out.append((R.insertion_estimate(inst, r, rt, c),
                            None if ins is None else (ins[0], ins[1].seq, ins[1].timeline),
                            R.route_cost(inst, r, rt.seq, rt.timeline)))
        return out

    plain = price()
    monkeypatch.setattr(R, "SMALL", 0)
    vectorised = price()
    assert len(plain) > 200 and sum(p[1] is not None for p in plain) > 100
    for p, v in zip(plain, vectorised):
        assert p[0] == pytest.approx(v[0], rel=1e-12, abs=1e-9)
        assert (p[1] is None) == (v[1] is None)
        if p[1] is not None:
            assert p[1][0] == pytest.approx(v[1][0], rel=1e-12, abs=1e-9) and p[1][1:] == v[1][1:]
        assert p[2] == pytest.approx(v[2], rel=1e-12, abs=1e-9)
