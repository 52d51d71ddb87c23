"""assign_territories: pins, compact territories around homes, balanced workloads."""
from __future__ import annotations

import numpy as np

from planner.domain import Customer, Location, Region, Rep
from planner.scheduling.territory import assign_territories

from .helpers import make_instance, visits_of


def cust(cid, lat, lon, **kw):
    return Customer(id=cid, name=cid, location=Location(lat, lon), grade="B", **kw)


def rep(rid, lat, lon):
    return Rep(id=rid, name=rid, start=Location(lat, lon))


def all_reps(inst):
    return [[inst.pinned[c]] if inst.pinned[c] is not None else list(range(len(inst.reps))) for c in range(inst.n)]


def test_each_rep_gets_the_cluster_around_home():
    # R1 at lon 0, R2 at lon 0.5 (about 55 km east); three customers within ~1 km of each home
    custs = [cust(f"W{i}", 0.001 * i, 0.002 * i) for i in range(3)] + \
            [cust(f"E{i}", 0.001 * i, 0.5 + 0.002 * i) for i in range(3)]
    inst = make_instance(Region(tuple(custs), (rep("R1", 0, 0), rep("R2", 0, 0.5))))
    t = assign_territories(inst, all_reps(inst), visits_of(inst))
    owner = {inst.customers[c].id: inst.reps[int(t.rep_of[c])].rep.id for c in range(inst.n)}
    assert owner == {"E0": "R2", "E1": "R2", "E2": "R2", "W0": "R1", "W1": "R1", "W2": "R1"}


def test_pins_are_kept_even_far_from_home():
    # W0 sits next to R1's home but is pinned to R2 (55 km away); three free customers by each home
    custs = [cust("W0", 0, 0.001, rep_id="R2")] + \
            [cust(f"W{i}", 0.001 * i, 0.002 * i) for i in range(1, 4)] + \
            [cust(f"E{i}", 0.001 * i, 0.5 + 0.002 * i) for i in range(3)]
    inst = make_instance(Region(tuple(custs), (rep("R1", 0, 0), rep("R2", 0, 0.5))))
    ids = [c.id for c in inst.customers]
    eligible = all_reps(inst)
    assert eligible[ids.index("W0")] == [1]                          # pinned -> only R2 eligible
    t = assign_territories(inst, eligible, visits_of(inst))
    assert t.rep_of[ids.index("W0")] == 1                             # R2, although 55 km away
    # (the free customers are split by the +5% workload limit, so where they go is not asserted)
    assert all(t.rep_of[ids.index(f"W{i}")] == 0 for i in range(1, 4))


def test_balance_on_a_symmetric_case():
    # both reps live at the same place; 8 identical customers on a ring around it.
    custs = [cust(f"C{i}", 0.01 * np.cos(i * np.pi / 4), 0.01 * np.sin(i * np.pi / 4)) for i in range(8)]
    inst = make_instance(Region(tuple(custs), (rep("R1", 0, 0), rep("R2", 0, 0))))
    t = assign_territories(inst, all_reps(inst), visits_of(inst))
    # equal working hours -> target = half the total each; each load within +-25% of it
    assert np.allclose(t.target_load, t.load.sum() / 2)
    assert np.all(np.abs(t.load - t.target_load) <= 0.25 * t.target_load)
    assert sorted(np.bincount(t.rep_of, minlength=2)) == [4, 4]


def test_balance_when_all_customers_are_near_one_home():
    # all 8 customers next to R1's home, R2 10 km away: the 5% slack on the target still forces
    # about half of the work to R2
    custs = [cust(f"C{i}", 0.001 * (i % 3), 0.001 * i) for i in range(8)]
    inst = make_instance(Region(tuple(custs), (rep("R1", 0, 0), rep("R2", 0.09, 0))))
    t = assign_territories(inst, all_reps(inst), visits_of(inst))
    assert np.all(t.load <= 1.25 * t.target_load)
    assert np.all(t.load >= 0.75 * t.target_load)


def test_workload_target_follows_working_hours():
    custs = [cust(f"C{i}", 0, 0.001 * i) for i in range(6)]
    r2 = Rep(id="R2", name="R2", start=Location(0, 0), workdays=frozenset({0, 1}))   # 2 days vs 5
    inst = make_instance(Region(tuple(custs), (rep("R1", 0, 0), r2)))
    t = assign_territories(inst, all_reps(inst), visits_of(inst))
    # capacities 5 : 2 days of the same length -> targets 5/7 and 2/7 of the total
    assert abs(t.target_load[0] / t.target_load.sum() - 5 / 7) < 1e-9
