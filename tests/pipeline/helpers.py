"""Shared helpers of the pipeline tests."""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.bench.planar import PlanarTravel, to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, VisitPolicy
from planner.pipeline.engine import Engine
from planner.scheduling.instance import build_instance, instance_locations
from planner.solver import pyvrp_engine
from planner.solver.ortools_engine import OrToolsEngine


def planar_engine(region: Region, start: dt.date, weeks: int = 1, seed: int = 1) -> Engine:
    """The engine ``plan_region`` would build for ``region`` on plane coordinates (PyVRP as the
    fast engine), to call its phases one by one. Customer ``k`` (sorted by id) is index ``k``."""
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    mats = PlanarTravel().get_matrix(instance_locations(customers, region.reps))
    inst = build_instance(region, start, weeks, mats.distance_km, mats.duration_s, customers, list(region.reps))
    return Engine(inst, OrToolsEngine(), time_limit=2, seed=seed, fast_router=pyvrp_engine.PyVrpEngine(),
                  fast_supports=pyvrp_engine.supports)


MONDAY = dt.date(2026, 1, 5)
FLEET_POLICY = VisitPolicy(MappingProxyType({"X": GradeRule(Frequency(1, 1), 0)}))


def fleet_engine(spec: dict, vehicles: int = 1, capacity: int = 100) -> Engine:
    """A shared fleet on the plane from ``spec``: id -> ((x, y), allowed visit-day patterns,
    demand), visits of no duration; ``vehicles`` of ``capacity`` at (0, 0) working every day,
    one plane unit per km, 1 per km."""
    customers = tuple(Customer(k, k, to_location(*xy), "X", visit_minutes=0, demand=q, allowed_days=p)
                      for k, (xy, p, q) in spec.items())
    reps = tuple(Rep(f"V{v}", f"v{v}", to_location(0, 0), work_start=0, work_end=1000, workdays=frozenset(range(7)),
                     lunch=None, capacity=capacity, cost_per_km=1.0, cost_per_hour=0.0) for v in range(vehicles))
    return planar_engine(Region(customers, reps, FLEET_POLICY, ownership=False), MONDAY)
