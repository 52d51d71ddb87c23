"""Shared helpers of the pipeline tests."""
from __future__ import annotations

import datetime as dt

from planner.bench.planar import PlanarTravel
from planner.domain import Region
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
