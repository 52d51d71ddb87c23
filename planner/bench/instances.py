"""Readers for the Solomon VRPTW and Cordeau PVRP text formats, and their conversion to a Region.

Solomon: name, ``VEHICLE`` (number K, capacity Q), ``CUSTOMER`` rows
``no x y demand ready due service``; row 0 is the depot (its due date ends the day). Service
must *start* in ``[ready, due]``; travel time = Euclidean distance.

Cordeau PVRP: ``type m n t``; ``t`` lines ``D Q`` (max route duration, 0 = none; capacity);
``n + 1`` node lines ``i x y d q f a codes…`` (service, demand, frequency, number of allowed
patterns and their codes). A code is a t-bit number whose leftmost bit is day 1.

Cordeau's reference solutions (``.res``): the cost, then one line per route
``day vehicle duration load 0 c1 c2 … 0`` (days from 1). :func:`read_cordeau_solution` reads
the days each customer is visited on, and :func:`with_fixed_days` holds an instance to them:
planned so, the instance measures the routing alone, apart from the choice of days.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from planner.bench.planar import to_location
from planner.domain import Customer, Frequency, GradeRule, Region, Rep, TimeWindow, VisitPolicy

START = dt.date(2026, 1, 5)  # a Monday: day offset k is instance day k + 1
GRADE = "X"
ALL_DAYS = frozenset(range(7))


class InstanceError(ValueError):
    """The file is not a valid instance of the expected format."""


@dataclass(frozen=True)
class Node:
    """One row of an instance: id, coordinates, demand, service, window, patterns."""

    id: int
    x: float
    y: float
    demand: float
    service: float
    ready: float = 0.0
    due: float = math.inf
    patterns: tuple[tuple[int, ...], ...] = ((0,),)


@dataclass(frozen=True)
class Instance:
    """A research instance: depot (node 0), customers, fleet per day, horizon in days."""

    name: str
    depot: Node
    customers: tuple[Node, ...]
    vehicles: int
    capacity: float
    days: int = 1
    max_duration: float = 0.0


def read_solomon(path: str | Path) -> Instance:
    """Read a Solomon VRPTW file."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    try:
        k = next(i for i, ln in enumerate(lines) if ln[0].upper() == "VEHICLE")
        vehicles, capacity = int(lines[k + 2][0]), float(lines[k + 2][1])
        rows = [ln for ln in lines[k + 3:] if len(ln) == 7 and ln[0].isdigit()]
        nodes = [Node(int(r[0]), float(r[1]), float(r[2]), float(r[3]), float(r[6]), float(r[4]), float(r[5]))
                 for r in rows]
    except (StopIteration, IndexError, ValueError) as e:
        raise InstanceError(f"{path}: not a Solomon VRPTW file ({e})") from e
    if not nodes or nodes[0].id != 0:
        raise InstanceError(f"{path}: no depot row 0")
    return Instance(lines[0][0], nodes[0], tuple(nodes[1:]), vehicles, capacity)


def decode_pattern(code: int, t: int) -> tuple[int, ...]:
    """Day offsets of a pattern code (leftmost of ``t`` bits = day offset 0)."""
    return tuple(d for d in range(t) if code >> (t - 1 - d) & 1)


def read_cordeau(path: str | Path) -> Instance:
    """Read a Cordeau (1997) periodic VRP file (type 1)."""
    lines = [ln.split() for ln in Path(path).read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    try:
        typ, m, n, t = (int(v) for v in lines[0][:4])
        if typ != 1:
            raise InstanceError(f"{path}: type {typ} is not a PVRP (1)")
        dq = [(float(a), float(b)) for a, b, *_ in lines[1:1 + t]]
        nodes = []
        for r in lines[1 + t:2 + t + n]:
            a = int(r[6])
            codes = [int(v) for v in r[7:7 + a]]
            nodes.append(Node(int(r[0]), float(r[1]), float(r[2]), float(r[4]), float(r[3]),
                              patterns=tuple(sorted({decode_pattern(c, t) for c in codes}))))
    except (IndexError, ValueError) as e:
        raise InstanceError(f"{path}: not a Cordeau PVRP file ({e})") from e
    if len(nodes) != n + 1:
        raise InstanceError(f"{path}: expected {n + 1} node lines, found {len(nodes)}")
    return Instance(Path(path).name, nodes[0], tuple(nodes[1:]), m, dq[0][1], t, dq[0][0])


def read_cordeau_solution(path: str | Path) -> tuple[float, dict[int, tuple[int, ...]]]:
    """A Cordeau reference solution: its cost and, per customer id, the day offsets (from 0) it
    is visited on. A malformed line is an :class:`InstanceError` naming the file and line."""
    lines = Path(path).read_text().splitlines()
    try:
        cost = float(lines[0].split()[0])
    except (IndexError, ValueError) as e:
        raise InstanceError(f"{path}: line 1: no cost ({e})") from e
    days: dict[int, set[int]] = {}
    for no, ln in enumerate(lines[1:], start=2):
        f = ln.split()
        if not f:
            continue
        try:
            day, stops = int(f[0]), [int(v) for v in f[4:]]
        except (IndexError, ValueError) as e:
            raise InstanceError(f"{path}: line {no}: not 'day vehicle duration load 0 ... 0' ({e})") from e
        if day < 1 or len(stops) < 2 or stops[0] != 0 or stops[-1] != 0:
            raise InstanceError(f"{path}: line {no}: not 'day vehicle duration load 0 ... 0'")
        for c in stops[1:-1]:
            if c == 0 or (day - 1) in days.setdefault(c, set()):
                raise InstanceError(f"{path}: line {no}: customer {c} twice on day {day}")
            days[c].add(day - 1)
    return cost, {c: tuple(sorted(ds)) for c, ds in sorted(days.items())}


def with_fixed_days(inst: Instance, days: Mapping[int, tuple[int, ...]]) -> tuple[Instance, list[int]]:
    """``inst`` with each customer of ``days`` (customer id -> day offsets) allowed only that
    pattern, which must be one of its own: an :class:`InstanceError` names the first whose days
    form none of its patterns, or an id the instance lacks. Returns the instance and the ids of
    the customers ``days`` does not name, which keep their patterns (Cordeau's p01 solution
    leaves out customer 51, at the depot, whose demand fills a vehicle: a route of length 0)."""
    ids = {c.id for c in inst.customers}
    stray = sorted(set(days) - ids)
    if stray:
        raise InstanceError(f"{inst.name}: customer {stray[0]}: not in the instance")
    customers, free = [], []
    for c in inst.customers:
        mine = days.get(c.id)
        if mine is None:
            customers.append(c)
            free.append(c.id)
            continue
        if tuple(mine) not in c.patterns:
            raise InstanceError(f"{inst.name}: customer {c.id}: days {[d + 1 for d in mine]} are none of its "
                                f"patterns {[[d + 1 for d in p] for p in c.patterns]}")
        customers.append(replace(c, patterns=(tuple(mine),)))
    return replace(inst, customers=tuple(customers)), free


def _policy() -> VisitPolicy:
    return VisitPolicy(MappingProxyType({GRADE: GradeRule(Frequency(1, 1), 0)}))


def to_region(inst: Instance) -> tuple[Region, int]:
    """The instance as a Region (shared fleet, planar locations) and the weeks to plan."""
    horizon_min = inst.depot.due if math.isfinite(inst.depot.due) else (
        inst.max_duration if inst.max_duration > 0 else 7 * 24 * 60 - 1)
    work_end = int(min(7 * 24 * 60 - 1, math.floor(horizon_min)))
    customers = []
    for c in inst.customers:
        service = int(math.ceil(c.service))
        opening: tuple[TimeWindow, ...] = ()
        if math.isfinite(c.due):
            start = int(math.ceil(c.ready))
            end = int(math.floor(c.due)) + service
            opening = (TimeWindow(start, max(end, start + 1)),)
        customers.append(Customer(
            id=str(c.id), name=f"customer {c.id}", location=to_location(c.x, c.y), grade=GRADE,
            visit_minutes=service, opening=opening, demand=int(math.ceil(c.demand)),
            allowed_days=c.patterns))
    reps = tuple(
        Rep(id=f"V{v + 1}", name=f"vehicle {v + 1}", start=to_location(inst.depot.x, inst.depot.y),
            work_start=int(inst.depot.ready), work_end=work_end, workdays=ALL_DAYS, lunch=None,
            capacity=int(inst.capacity), cost_per_km=1.0, cost_per_hour=0.0)
        for v in range(inst.vehicles))
    return Region(tuple(customers), reps, _policy(), ownership=False), max(1, math.ceil(inst.days / 7))
