"""Travel-time providers. Every provider answers ``get_matrix(locations)`` for a whole set at once.

The default, :class:`HaversineTravel`, is the great-circle distance times a circuity factor
(roads are not straight: 1.3 by default) driven at an average speed (30 km/h in a city by
default). Road-network providers implement the same :class:`TravelMatrix` protocol.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from planner.domain import Location

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Matrices:
    """Square matrices over a list of locations: road km and driving seconds."""

    distance_km: np.ndarray
    duration_s: np.ndarray


class TravelMatrix(Protocol):
    """Anything that can give travel distances and times between all pairs of locations."""

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Return distance (km) and duration (s) matrices, indexed like ``locations``."""
        ...


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """All-pairs great-circle distances (km) with the haversine formula, vectorised."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    dla = la[:, None] - la[None, :]
    dlo = lo[:, None] - lo[None, :]
    h = np.sin(dla / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlo / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


@dataclass(frozen=True)
class HaversineTravel:
    """Great-circle distance × ``circuity`` at ``speed_kmh``."""

    circuity: float = 1.3
    speed_kmh: float = 30.0

    def __post_init__(self) -> None:
        if self.circuity < 1.0 or self.speed_kmh <= 0:
            raise ValueError("circuity must be >= 1 and speed positive")

    def get_matrix(self, locations: Sequence[Location]) -> Matrices:
        """Distances and times between all pairs of ``locations``."""
        if not locations:
            empty = np.zeros((0, 0))
            return Matrices(empty, empty.copy())
        lat = np.fromiter((p.lat for p in locations), float, len(locations))
        lon = np.fromiter((p.lon for p in locations), float, len(locations))
        km = great_circle_km(lat, lon) * self.circuity
        return Matrices(km, km / self.speed_kmh * 3600.0)
