"""Destroy-and-repair's worst-placed customers (:meth:`_State._worst_placed`), by hand."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, VisitPolicy
from planner.pipeline.engine import _State
from planner.pipeline.routes import make_route

from .helpers import planar_engine

MONDAY = dt.date(2026, 1, 5)
POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 30)}))


def test_the_worst_placed_are_those_whose_visits_add_most_km():
    # rep at (0, 0). Monday 0 -> A (10, 0) -> B (10, 1) -> C (0, 10) -> 0; Tuesday 0 -> D (3, 4) -> 0.
    # km a visit adds (in + out - direct):
    #   A: 10 + 1 - sqrt(101) = 0.95      B: 1 + sqrt(181) - sqrt(200) = 0.31
    #   C: sqrt(181) + 10 - sqrt(101) = 13.40      D: 5 + 5 - 0 = 10
    spec = {"A": ((10, 0), 0), "B": ((10, 1), 0), "C": ((0, 10), 0), "D": ((3, 4), 1)}
    customers = tuple(Customer(k, k, to_location(*xy), "X", visit_minutes=30, allowed_days=((d,),), rep_id="R")
                      for k, (xy, d) in spec.items())
    rep = Rep("R", "r", to_location(0, 0), workdays=frozenset({0, 1}), cost_per_km=1.0, cost_per_hour=0.0,
              lunch=None)
    eng = planar_engine(Region(customers, (rep,), POLICY), MONDAY)
    eligible, options, _ = eng.eligibility()
    inst = eng.inst
    routes = {(0, 0): make_route(inst, 0, [0, 1, 2], 0), (0, 1): make_route(inst, 0, [3], 1)}
    state = _State(eng, options, eligible, {c: 0 for c in range(4)}, {c: options[(c, 0)][0] for c in range(4)},
                   routes)
    assert state._worst_placed([0, 1, 2, 3]) == [2]  # the top quarter of four: C
    assert state._worst_placed([0, 1, 3]) == [3]     # without C: D (10 against 0.95 and 0.31)
    assert state._worst_placed([0, 1]) == [0]        # A before B
