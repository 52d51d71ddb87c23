"""plan_kpis / rep_kpis / route_kpis on a hand plan: every figure is read off the routes."""
from __future__ import annotations


import pytest

from planner.domain import Plan, Route, Unassigned
from planner.evaluation.kpis import plan_kpis, rep_kpis, route_kpis

from .helpers import MON, at, day, stop

# R1 Monday: two visits (45 + 60 min), 08:30 -> 12:30 (4 h), 10 km, 30 min driving, cost 130
R1_MON = Route("R1", MON, (stop("C1", MON, "09:00", "09:45"), stop("C2", MON, "10:00", "11:00")),
               at(MON, "08:30"), at(MON, "12:30"), distance_km=10.0, drive_minutes=30.0, cost=130.0)
# R1 Tuesday: one 30-min visit, 09:00 -> 10:30 (1.5 h), 4.5 km, 15 min, cost 49.5
R1_TUE = Route("R1", day(1), (stop("C3", day(1), "09:30", "10:00"),),
               at(day(1), "09:00"), at(day(1), "10:30"), distance_km=4.5, drive_minutes=15.0, cost=49.5)
# R2 Wednesday: one 60-min visit, 08:30 -> 11:30 (3 h), 20 km, 90 min, cost 110
R2_WED = Route("R2", day(2), (stop("C4", day(2), "09:15", "10:15"),),
               at(day(2), "08:30"), at(day(2), "11:30"), distance_km=20.0, drive_minutes=90.0, cost=110.0)
EMPTY = Route("R2", day(3), (), at(day(3), "08:30"), at(day(3), "08:30"))
PLAN = Plan("P", MON, 1, (R1_MON, R1_TUE, R2_WED, EMPTY),
            (Unassigned("C5", day(4), "capacity_exceeded", "full"), Unassigned("C6", None, "inactive", "closed")))


def test_route_kpis():
    k = route_kpis(R1_MON)
    assert (k.rep_id, k.date, k.visits) == ("R1", "2026-11-30", 2)
    assert k.distance_km == 10.0
    assert k.drive_hours == 0.5            # 30 min
    assert k.work_hours == 4.0             # 08:30 -> 12:30
    assert k.visit_hours == 1.75           # 45 + 60 min
    assert k.cost == 130.0


def test_route_kpis_of_an_empty_route_has_no_work():
    assert route_kpis(EMPTY).work_hours == 0.0 and route_kpis(EMPTY).visits == 0


def test_plan_kpis():
    k = plan_kpis(PLAN)
    assert k["visits"] == 4                          # 2 + 1 + 1
    assert k["routes"] == 3                          # the empty route is not counted
    assert k["distance_km"] == 34.5                  # 10 + 4.5 + 20
    assert k["drive_hours"] == 2.25                  # 0.5 + 0.25 + 1.5
    assert k["work_hours"] == 8.5                    # 4 + 1.5 + 3
    assert k["cost"] == 289.5                        # 130 + 49.5 + 110
    assert k["km_per_visit"] == pytest.approx(8.625)  # 34.5 / 4
    assert k["unassigned"] == 2
    assert k["required_visits"] == 5                 # 4 planned + 1 unplanned (inactive excluded)
    assert k["compliance"] == 0.8                    # 4 / 5


def test_plan_kpis_with_required_visits_given():
    assert plan_kpis(PLAN, required_visits=8)["compliance"] == 0.5


def test_plan_kpis_of_an_empty_plan():
    k = plan_kpis(Plan("P", MON, 1, ()))
    assert (k["visits"], k["km_per_visit"], k["compliance"]) == (0, 0.0, 1.0)


def test_rep_kpis():
    k = rep_kpis(PLAN)
    assert list(k) == ["R1", "R2"]
    assert k["R1"] == {"visits": 3, "distance_km": 14.5, "drive_hours": 0.75, "work_hours": 5.5,
                       "cost": 179.5, "days": 2}
    assert k["R2"] == {"visits": 1, "distance_km": 20.0, "drive_hours": 1.5, "work_hours": 3.0,
                       "cost": 110.0, "days": 1}
