"""Distances on the earth's surface, and the box around a circle (no database)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180  # along a meridian


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) of a box holding every point within ``radius_m``
    (a hair wider, so the exact check alone decides at the edge)."""
    angle = radius_m / EARTH_RADIUS_M
    dlat = math.degrees(angle) * 1.001
    # The widest point of the circle in longitude (exact on the sphere).
    ratio = math.sin(angle) / max(math.cos(math.radians(lat)), 1e-9)
    dlng = (180.0 if ratio >= 1 else math.degrees(math.asin(ratio))) * 1.001
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng
