"""Index-based, immutable routing problem: what every routing engine sees.

Locations are indices into square integer matrices (``distance`` in engine units, ``duration``
in seconds). Visits are indices ``0..n-1``; each visit sits at a location, takes ``service``
seconds, may start only inside one of its ``start_windows`` (already shrunk so that the whole
visit fits in an opening window), and may be dropped at ``penalty`` (``None``: mandatory).
Vehicles start and end at locations inside a time window, may have a break, a visit cap, a
load capacity, and costs per distance unit and per second of route duration.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class BreakSpec:
    """A break of ``duration`` seconds starting inside ``[earliest_start, latest_start]``."""

    duration: int
    earliest_start: int
    latest_start: int


@dataclass(frozen=True)
class VehicleSpec:
    """One vehicle (a rep on a day)."""

    start_loc: int
    end_loc: int
    earliest_start: int
    latest_end: int
    max_visits: int | None = None
    capacity: int | None = None
    brk: BreakSpec | None = None
    cost_per_unit: int = 1
    cost_per_second: int = 0
    max_duration: int | None = None


@dataclass(frozen=True)
class RoutingProblem:
    """A vehicle routing problem with time windows, breaks, caps and optional visits."""

    distance: np.ndarray
    duration: np.ndarray
    visit_loc: tuple[int, ...]
    service: tuple[int, ...]
    start_windows: tuple[tuple[tuple[int, int], ...], ...]
    vehicles: tuple[VehicleSpec, ...]
    demand: tuple[int, ...] | None = None
    penalty: tuple[int | None, ...] | None = None
    allowed_vehicles: tuple[tuple[int, ...] | None, ...] | None = None

    @property
    def n_visits(self) -> int:
        """Number of visits."""
        return len(self.visit_loc)


@dataclass(frozen=True)
class RoutingSolution:
    """Visit indices per vehicle in order, the dropped visits, and the engine's objective."""

    routes: tuple[tuple[int, ...], ...]
    dropped: tuple[int, ...]
    objective: int
    feasible: bool = True


def without_breaks(problem: RoutingProblem) -> RoutingProblem | None:
    """A break-free approximation of ``problem``, or None if no vehicle has a break: each break
    is taken out of its vehicle's working day (the day ends, and its duration cap shrinks, by the
    break's length) instead of being placed inside its window.

    Engines solve it far faster (OR-Tools' break intervals cost it most of its search time on a
    rep's day), and its routes order visits as well, but it is only an approximation: a route
    found for it must be timed exactly with the break (which may not fit where the visits'
    windows need it), and the full problem solved when that fails."""
    if all(v.brk is None for v in problem.vehicles):
        return None
    vehicles = tuple(v if v.brk is None else replace(
        v, brk=None, latest_end=max(v.earliest_start, v.latest_end - v.brk.duration),
        max_duration=None if v.max_duration is None else max(0, v.max_duration - v.brk.duration))
        for v in problem.vehicles)
    return replace(problem, vehicles=vehicles)


@dataclass(frozen=True)
class SearchOptions:
    """How hard to search: ``time_limit`` seconds cap, guided local search or plain descent.
    For engines with a granular neighbourhood and late acceptance (PyVRP): ``neighbours``, how
    many nearest visits each visit's moves consider; ``history``, how many solutions back a new
    one is compared with to be accepted (short: close to a plain descent); None: the engine's
    default."""

    time_limit: float = 1.0
    guided: bool = False
    seed: int = 0
    solution_limit: int | None = None
    first_solution: str = "AUTOMATIC"
    neighbours: int | None = None
    history: int | None = None
    initial_routes: Sequence[Sequence[int]] | None = field(default=None, compare=False)


class RoutingEngine(Protocol):
    """A routing engine solves a :class:`RoutingProblem`."""

    def solve(self, problem: RoutingProblem, options: SearchOptions) -> RoutingSolution:
        """Return routes (and dropped visits) for ``problem``."""
        ...
