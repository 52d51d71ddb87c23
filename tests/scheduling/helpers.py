from __future__ import annotations

import datetime as dt

import numpy as np

from planner.domain import Region
from planner.geo.travel import HaversineTravel
from planner.scheduling.instance import PlanningInstance, build_instance

MON = dt.date(2026, 11, 30)


def make_instance(region: Region, weeks: int = 1, start: dt.date = MON) -> PlanningInstance:
    customers = sorted((c for c in region.customers if c.active), key=lambda c: c.id)
    locs = [c.location for c in customers]
    for r in region.reps:
        locs += [r.start, r.end_location]
    m = HaversineTravel().get_matrix(locs)
    return build_instance(region, start, weeks, m.distance_km, m.duration_s, customers, list(region.reps))


def visits_of(inst: PlanningInstance) -> np.ndarray:
    return np.array([len(inst.patterns(c, 0)[0].days) for c in range(inst.n)], dtype=float)
