"""The metric coordinate space of a study: one UTM zone, or Earth-centred XYZ for wide studies.

See :mod:`assetmap.analysis.access` and ``docs/methods.md`` section 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS, Transformer

from assetmap._crs import utm_crs
from assetmap.errors import SchemaError

_EARTH_R = 6_371_008.8
_MAX_UTM_SPAN_DEG = 18.0


@dataclass(frozen=True)
class _Space:
    """A metric coordinate space: a projected CRS, or Earth-centred XYZ (EPSG:4978)."""

    crs: CRS

    @property
    def geocentric(self) -> bool:
        return self.crs.is_geocentric

    def coords(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        fwd = _transformer("EPSG:4326", self.crs.to_wkt())
        if self.geocentric:
            x, y, z = fwd.transform(lon, lat, np.zeros_like(lon))
            return np.column_stack([x, y, z])
        x, y = fwd.transform(lon, lat)
        return np.column_stack([x, y])

    def lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        inv = _transformer(self.crs.to_wkt(), "EPSG:4326")
        if self.geocentric:
            lon, lat, _ = inv.transform(xy[:, 0], xy[:, 1], xy[:, 2])
        else:
            lon, lat = inv.transform(xy[:, 0], xy[:, 1])
        return np.asarray(lon), np.asarray(lat)

    def radius(self, metres: np.ndarray | float) -> np.ndarray | float:
        """Metres on the ground -> search radius in this space (chord for geocentric)."""
        if not self.geocentric:
            return metres
        return 2 * _EARTH_R * np.sin(np.minimum(np.asarray(metres) / (2 * _EARTH_R), np.pi / 2))

    def metres(self, dist: np.ndarray) -> np.ndarray:
        """Distance in this space -> metres on the ground (great circle for geocentric)."""
        if not self.geocentric:
            return dist
        return 2 * _EARTH_R * np.arcsin(np.clip(np.asarray(dist) / (2 * _EARTH_R), 0, 1))


@lru_cache(maxsize=32)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def study_crs(*frames: gpd.GeoDataFrame | None, crs: Any = None) -> CRS:
    """Return the CRS in which a study's distances are measured.

    Parameters
    ----------
    *frames : geopandas.GeoDataFrame
        The study's areas and sites (any CRS); their joint bounds decide.
    crs : optional
        A CRS to use as is (anything ``pyproj.CRS`` accepts).

    Returns
    -------
    pyproj.CRS
        The UTM zone of the joint bounds' centre when they span at most 18 degrees of
        longitude, else EPSG:4978 (Earth-centred; chords converted to great-circle metres).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(-102.5, 31.8), Point(-101.9, 31.9)], crs=4326)
    >>> study_crs(pts).to_epsg()
    32613
    """
    if crs is not None:
        return CRS.from_user_input(crs)
    bounds = np.array([f.to_crs(4326).total_bounds for f in frames if f is not None and len(f)])
    if not len(bounds) or not np.isfinite(bounds).all():
        raise SchemaError("no geometry to choose a CRS from")
    west, south = bounds[:, 0].min(), bounds[:, 1].min()
    east, north = bounds[:, 2].max(), bounds[:, 3].max()
    if east - west > _MAX_UTM_SPAN_DEG:
        return CRS.from_epsg(4978)
    return utm_crs((west + east) / 2, (south + north) / 2)
