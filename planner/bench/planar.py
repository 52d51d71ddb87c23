"""Planar (Euclidean) travel for research instances, behind the ordinary TravelMatrix interface.

Instance coordinates ``(x, y)`` are stored in domain :class:`Location` objects as
``lat = y * SCALE, lon = x * SCALE`` (a tiny patch of the globe, never shown on a map); the
provider turns them back into plane coordinates. One distance unit takes one minute to drive.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from planner.domain import Location
from planner.geo.travel import Matrices

SCALE = 1e-3


def to_location(x: float, y: float) -> Location:
    """The domain location standing for plane point ``(x, y)``."""
    return Location(lat=y * SCALE, lon=x * SCALE)


@dataclass(frozen=True)
class PlanarTravel:
    """Euclidean distance between plane points; ``seconds_per_unit`` of driving per unit."""

    seconds_per_unit: float = 60.0

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Distance (plane units) and duration (s) matrices."""
        x = np.array([p.lon for p in locations], dtype=float) / SCALE
        y = np.array([p.lat for p in locations], dtype=float) / SCALE
        d = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
        return Matrices(d, d * self.seconds_per_unit)
