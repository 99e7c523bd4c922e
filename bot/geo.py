"""Distances on the earth."""

from __future__ import annotations


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres (WGS-84) between two (lat, lon) points."""
    # geopy's package imports all its geocoders: loaded on first use, not by every command.
    from geopy.distance import geodesic

    return float(geodesic(a, b).meters)
