"""Pick the projected CRS for metre-based work: the UTM zone of a frame's centre.

``GeoDataFrame.estimate_utm_crs`` asks the PROJ database every time (about a third of a second
each call); assetmap projects many frames per run, so the zone is computed here directly, with
the same result for areas inside one zone (WGS 84 / UTM, EPSG:326xx north, 327xx south).
"""

from __future__ import annotations

import numpy as np
from geopandas import GeoDataFrame, GeoSeries
from pyproj import CRS

from assetmap.errors import SchemaError

__all__ = ["estimate_utm", "utm_crs"]


def utm_crs(lon: float, lat: float) -> CRS:
    """Return the WGS 84 UTM zone of a point (the zone ``estimate_utm_crs`` picks in the US).

    Examples
    --------
    >>> utm_crs(-102.4, 31.9).to_epsg()
    32613
    """
    zone = int(np.clip(np.floor((lon + 180.0) / 6.0) + 1, 1, 60))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def estimate_utm(frame: GeoDataFrame | GeoSeries) -> CRS:
    """Return the UTM zone of the centre of a frame's bounds (any CRS; none means EPSG:4326).

    Raises
    ------
    SchemaError
        If the frame has no non-empty geometry.

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> estimate_utm(GeoSeries([Point(-102.4, 31.9)], crs=4326)).to_epsg()
    32613
    """
    geo = frame if frame.crs is None else frame.to_crs(4326)
    minx, miny, maxx, maxy = geo.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        raise SchemaError("cannot choose a projection for a frame with no geometry")
    return utm_crs((minx + maxx) / 2.0, (miny + maxy) / 2.0)
