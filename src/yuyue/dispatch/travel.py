"""Travel time estimates for dispatch: pluggable; the default is straight-line distance with a
detour factor at a city speed, vectorised with numpy."""

from __future__ import annotations

from typing import Protocol

import numpy as np
from django.utils.module_loading import import_string

EARTH_KM = 6371.0088


class TravelEstimator(Protocol):
    def matrix(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Minutes from each origin (n×2 lat/lng degrees) to each destination (m×2): n×m."""


class HaversineEstimator:
    def __init__(self, speed_kmh: float = 25.0, detour: float = 1.3):
        self.speed_kmh = speed_kmh
        self.detour = detour

    def km(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        o = np.radians(np.asarray(origins, dtype=float))[:, None, :]
        d = np.radians(np.asarray(destinations, dtype=float))[None, :, :]
        dlat, dlng = d[..., 0] - o[..., 0], d[..., 1] - o[..., 1]
        a = np.sin(dlat / 2) ** 2 + np.cos(o[..., 0]) * np.cos(d[..., 0]) * np.sin(dlng / 2) ** 2
        return 2 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))

    def matrix(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        return self.km(origins, destinations) * self.detour / self.speed_kmh * 60.0

    def minutes(self, lat1: float, lng1: float, lat2: float, lng2: float) -> float:
        return float(self.matrix(np.array([[lat1, lng1]]), np.array([[lat2, lng2]]))[0, 0])


def get_estimator(path: str | None = None) -> TravelEstimator:
    return import_string(path)() if path else HaversineEstimator()
