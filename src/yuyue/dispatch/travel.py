"""Travel-time estimates for dispatch: a small protocol, and a straight-line default.

An estimator answers in minutes. It must offer `minutes()` for one trip and `matrix()` for every
origin × destination at once (a round prices thousands of pairs, so that one is vectorised). It may
also offer `pairwise()`, minutes for origins[k] → destinations[k]: matching uses it when present
to price only the eligible pairs instead of the full matrix.

The default, `HaversineEstimator`, takes the great-circle distance, stretches it by a detour factor
(streets are not straight) and divides by a city speed. A routing service can replace it: name its
class in the YUYUE_TRAVEL_ESTIMATOR setting and get it with `get_estimator(path)`.

Pure numpy; no Django and no database, so the matching core can be tested and benchmarked alone.
"""

from __future__ import annotations

import importlib
from typing import Protocol, runtime_checkable

import numpy as np

EARTH_RADIUS_KM = 6371.0088


@runtime_checkable
class TravelEstimator(Protocol):
    def minutes(self, from_lat: float, from_lng: float, to_lat: float, to_lng: float) -> float:
        """Minutes to travel from one point to another (degrees)."""
        ...

    def matrix(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Minutes from each origin (n×2 lat/lng degrees) to each destination (m×2): n×m."""
        ...


def haversine_km(origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
    """Great-circle km between points given as (..., 2) lat/lng degrees; broadcasts like numpy."""
    o = np.radians(np.asarray(origins, dtype=float))
    d = np.radians(np.asarray(destinations, dtype=float))
    dlat = d[..., 0] - o[..., 0]
    dlng = d[..., 1] - o[..., 1]
    a = np.sin(dlat * 0.5) ** 2 + np.cos(o[..., 0]) * np.cos(d[..., 0]) * np.sin(dlng * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class HaversineEstimator:
    """Great-circle distance × detour at a steady speed: 25 km/h × 1.3 ≈ 3.1 minutes per km."""

    def __init__(self, speed_kmh: float = 25.0, detour: float = 1.3):
        if speed_kmh <= 0 or detour <= 0:
            raise ValueError("speed_kmh and detour must be positive")
        self.speed_kmh = float(speed_kmh)
        self.detour = float(detour)

    def __repr__(self) -> str:
        return f"HaversineEstimator(speed_kmh={self.speed_kmh:g}, detour={self.detour:g})"

    @property
    def minutes_per_km(self) -> float:
        """Minutes per km of straight-line distance."""
        return self.detour * 60.0 / self.speed_kmh

    def km(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Straight-line km, n×m."""
        o = np.asarray(origins, dtype=float).reshape(-1, 2)
        d = np.asarray(destinations, dtype=float).reshape(-1, 2)
        return haversine_km(o[:, None, :], d[None, :, :])

    def matrix(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        return self.km(origins, destinations) * self.minutes_per_km

    def pairwise(self, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Minutes from origins[k] to destinations[k] (both k×2): k."""
        o = np.asarray(origins, dtype=float).reshape(-1, 2)
        d = np.asarray(destinations, dtype=float).reshape(-1, 2)
        return haversine_km(o, d) * self.minutes_per_km

    def minutes(self, from_lat: float, from_lng: float, to_lat: float, to_lng: float) -> float:
        return float(
            haversine_km(np.array([from_lat, from_lng]), np.array([to_lat, to_lng]))
            * self.minutes_per_km
        )


def get_estimator(dotted_path: str | None = None) -> TravelEstimator:
    """The estimator named by `dotted_path` ("package.module.Class"), or the default.

    A class (or any factory) is called without arguments; an object that already is an estimator
    is returned as it is.
    """
    if not dotted_path:
        return HaversineEstimator()
    module_path, _, name = dotted_path.rpartition(".")
    if not module_path:
        raise ImportError(f"{dotted_path!r} is not a dotted path to an estimator class")
    try:
        target = getattr(importlib.import_module(module_path), name)
    except AttributeError as exc:
        raise ImportError(f"module {module_path!r} has no attribute {name!r}") from exc
    if isinstance(target, type) or not isinstance(target, TravelEstimator):
        estimator = target()  # a class or a factory
    else:
        estimator = target
    if not isinstance(estimator, TravelEstimator):
        raise TypeError(f"{dotted_path} does not give an estimator with minutes() and matrix()")
    return estimator
