"""Errors of the travel providers, importable without their optional packages.

Every one is a :class:`TravelError`, so a caller (the CLI, an API job) can report any of them
as one clear message.
"""
from __future__ import annotations

from typing import Sequence

from planner.domain import Location


class TravelError(Exception):
    """A travel provider cannot give the matrices; the message says why and what to do."""


class TravelConfigError(TravelError, ValueError):
    """``PLANNER_TRAVEL`` names no provider this planner knows, or one that cannot start."""


class SnapError(TravelError, ValueError):
    """Locations too far from the road network to be routed; ``points`` lists each one as
    ``(index, lat, lon, km to the network)``."""

    def __init__(self, points: Sequence[tuple[int, float, float, float]], limit_km: float, where: str):
        self.points = list(points)
        self.limit_km = limit_km
        at: dict[tuple[float, float], list] = {}  # the same point (a rep's home and end) once
        for i, lat, lon, km in self.points:
            at.setdefault((lat, lon), [km]).append(i)
        shown = "; ".join(f"{', '.join(f'#{i}' for i in v[1:])} ({lat:.6f}, {lon:.6f}) {v[0]:.2f} km away"
                          for (lat, lon), v in list(at.items())[:20])
        more = f"; and {len(at) - 20} more points" if len(at) > 20 else ""
        super().__init__(f"{len(self.points)} location(s) farther than {limit_km:g} km from the road network "
                         f"of {where}: {shown}{more}. Check their coordinates, or use an extract that "
                         f"covers them.")


class RoutingServerError(TravelError, RuntimeError):
    """The routing server failed, refused the request, or gave an answer that cannot be read."""


class UnreachablePairs(RoutingServerError):
    """The server found no route for some pairs; ``pairs`` lists them as (from, to) indices."""

    def __init__(self, server: str, pairs: Sequence[tuple[int, int]], locations: Sequence[Location]):
        self.pairs = list(pairs)
        shown = "; ".join(f"#{i} ({locations[i].lat:.6f}, {locations[i].lon:.6f}) -> "
                          f"#{j} ({locations[j].lat:.6f}, {locations[j].lon:.6f})" for i, j in self.pairs[:10])
        more = f"; and {len(self.pairs) - 10} more" if len(self.pairs) > 10 else ""
        super().__init__(f"{server} found no route for {len(self.pairs)} pair(s): {shown}{more}")
