"""A tiny hand-made region and plan shared by the export and map tests.

Three customers with Chinese names (one with HTML-special characters), two reps, a one-week
plan with routes on two days (one with lunch, one empty route that exports must skip) and one
unplanned visit. Every figure below is chosen so that the tests can check totals by hand.
"""
from __future__ import annotations

import datetime as dt
from types import MappingProxyType

from planner.domain import (
    Customer, Location, Plan, Region, Rep, Route, Stop, Unassigned, parse_windows)

DAY1 = dt.date(2026, 11, 30)  # Monday
DAY2 = dt.date(2026, 12, 1)  # Tuesday
NASTY_NAME = '上海<华东>&"超市"'


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = map(int, hhmm.split(":"))
    return dt.datetime.combine(day, dt.time(h, m))


def build_region() -> Region:
    customers = (
        Customer(id="C1", name=NASTY_NAME, location=Location(31.2304, 121.4737), grade="A",
                 opening=parse_windows("09:00-12:00,14:00-18:00"), address="上海市黄浦区南京东路1号"),
        Customer(id="C2", name="杭州茶叶店", location=Location(31.3000, 121.5500), grade="B",
                 visit_minutes=45),
        Customer(id="C3", name="苏州加油站", location=Location(31.2000, 121.6000), grade="C"),
    )
    reps = (
        Rep(id="R1", name="王伟", start=Location(31.2500, 121.4000)),
        Rep(id="R2", name="李娜", start=Location(31.1500, 121.6500),
            end=Location(31.1600, 121.6600)),
    )
    return Region(customers=customers, reps=reps)


def build_plan() -> Plan:
    r1 = Route(
        rep_id="R1", date=DAY1,
        stops=(
            Stop("C1", at(DAY1, "09:05"), at(DAY1, "09:05"), at(DAY1, "10:05")),
            Stop("C2", at(DAY1, "10:50"), at(DAY1, "11:00"), at(DAY1, "11:45")),
        ),
        depart=at(DAY1, "08:30"), back=at(DAY1, "13:30"), lunch_start=at(DAY1, "12:00"),
        distance_km=84.2, drive_minutes=105.0, cost=120.5,
    )
    r1_empty = Route(rep_id="R1", date=DAY2, stops=(), depart=at(DAY2, "08:30"),
                     back=at(DAY2, "08:30"))
    r2 = Route(
        rep_id="R2", date=DAY2,
        stops=(Stop("C3", at(DAY2, "09:40"), at(DAY2, "10:00"), at(DAY2, "10:30")),),
        depart=at(DAY2, "09:00"), back=at(DAY2, "11:00"),
        distance_km=30.0, drive_minutes=70.0, cost=60.0,
    )
    return Plan(
        plan_id="P-test", start=DAY1, weeks=1,
        # deliberately unsorted: exports sort by (date, rep_id)
        routes=(r2, r1_empty, r1),
        unassigned=(Unassigned("C2", dt.date(2026, 12, 3), "capacity_exceeded",
                               "R1 is fully booked on 2026-12-03"),),
        assignment=MappingProxyType({"C1": "R1", "C2": "R1", "C3": "R2"}),
        patterns=MappingProxyType({"C1": (0,), "C2": (0,), "C3": (1,)}),
        created_at=dt.datetime(2026, 11, 20, 8, 0, 0),
    )
