"""What the equity map's point layers show: site, school and claim properties, H3 outlines.

Popup values are compact keys (``n`` name, ``t`` icon type, ``ty`` type, ``sv`` services...);
every word is in the reader's language, names from the data stay as given.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from assetmap._i18n import N_, messages
from assetmap.errors import SchemaError
from assetmap.outputs._legend import SITE_TYPES

__all__ = ["FIX_FIRST", "SCHOOL_TYPES", "SERVICE_LABELS", "STATUS_LABELS", "claims_text",
           "h3_polygons", "site_properties", "text_column"]

SERVICE_LABELS = {
    "public_wifi": N_("public Wi-Fi"),
    "device_lending": N_("device lending"),
    "hotspot_lending": N_("hotspot lending"),
    "computer_lab": N_("computer lab"),
    "tutoring": N_("tutoring"),
    "child_care": N_("child care"),
    "digital_literacy": N_("digital literacy"),
    "device_repair": N_("device repair"),
}
FIX_FIRST = N_("Needs a connectivity fix first: this site's location is unserved")
#: Site statuses (the partner list's codes) as the popup says them.
STATUS_LABELS = {"inquiry": N_("inquiry"), "vetted": N_("vetted"),
                 "agreement_signed": N_("agreement signed"), "active": N_("active"),
                 "ended": N_("ended")}
#: School levels as TEA and NCES name them; other values are shown as given.
SCHOOL_TYPES = {"Elementary School": N_("Elementary School"), "Middle School": N_("Middle School"),
                "High School": N_("High School"),
                "Elementary/Secondary": N_("Elementary/Secondary")}


def text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[column].astype("string").str.strip().replace("", pd.NA)


def _services(values: pd.Series, language: str = "en") -> pd.Series:
    _ = messages(language)

    def label(text: Any) -> Any:
        if text is pd.NA or text is None:
            return pd.NA
        codes = [c.strip() for c in str(text).split(";") if c.strip()]
        return ", ".join(_(SERVICE_LABELS[c]) if c in SERVICE_LABELS else c
                         for c in codes) or pd.NA

    return values.map(label)


def _capacity(frame: pd.DataFrame, language: str = "en") -> pd.Series:
    _ = messages(language)
    nouns = {  # (singular, plural) of each capacity, counted
        "capacity_seats": lambda n: _.plural("{count} seat", "{count} seats", n),
        "capacity_devices": lambda n: _.plural("{count} device", "{count} devices", n),
        "capacity_hotspots": lambda n: _.plural("{count} hotspot", "{count} hotspots", n),
    }
    parts = []
    for column, noun in nouns.items():
        if column in frame:
            values = pd.to_numeric(frame[column], errors="coerce")
            parts.append(values.map(lambda v, n=noun: n(round(v)) if pd.notna(v) else ""))
    if not parts:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    joined = pd.concat(parts, axis=1).apply(lambda r: ", ".join(x for x in r if x), axis=1)
    return joined.replace("", pd.NA)


def site_properties(sites: pd.DataFrame, *,
                    language: str = "en") -> tuple[pd.DataFrame, list[list[str]]]:
    """Return the popup properties of partner sites (only what the popup shows) and fields.

    Examples
    --------
    >>> s = pd.DataFrame({"name": ["Library"], "site_type": ["library"],
    ...                   "services": ["public_wifi;tutoring"], "status": ["active"]})
    >>> props, fields = site_properties(s)
    >>> props.loc[0, "sv"]
    'public Wi-Fi, tutoring'
    >>> site_properties(s, language="es")[0].loc[0, "sv"]
    'Wi-Fi público, tutoría'
    """
    _ = messages(language)
    types = text_column(sites, "site_type").fillna("other")
    status = text_column(sites, "status")
    props = pd.DataFrame(
        {
            "n": text_column(sites, "name").fillna(_("(unnamed site)")),
            "t": types.where(types.isin(SITE_TYPES.keys()), "other"),
            "ty": types.map(lambda t: _(SITE_TYPES.get(t, SITE_TYPES["other"])[2])),
            "sv": _services(text_column(sites, "services"), language),
            "h": text_column(sites, "hours"),
            "c": _capacity(sites, language),
            "st": status.map(lambda c: _(STATUS_LABELS[c]) if c in STATUS_LABELS else c,
                             na_action="ignore").astype("string").str.replace("_", " "),
        },
        index=sites.index,
    )
    level = text_column(sites, "site_service_level").str.lower()
    props["fx"] = pd.Series(pd.NA, index=sites.index, dtype="string").mask(
        level.eq("unserved").fillna(False), _(FIX_FIRST)
    )
    if "illustrative" in sites:
        flags = sites["illustrative"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        no_flag = np.array(None, dtype=object)  # numpy's stubs refuse a bare None here
        props["il"] = np.where(flags, _("yes (synthetic record)"), no_flag)
    fields = [
        ["ty", _("Type"), ""],
        ["sv", _("Services"), ""],
        ["h", _("Hours"), ""],
        ["c", _("Capacity"), ""],
        ["st", _("Status"), ""],
        ["il", _("Illustrative"), ""],
    ]
    return props, fields


def h3_polygons(cells: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return H3 res-8 cells as polygons (outlines from ``h3.cell_to_boundary``).

    Examples
    --------
    >>> g = h3_polygons(pd.DataFrame({"h3_res8_id": ["8848a2a4c5fffff"], "fiber_share": [0.5]}))
    >>> g.geometry.iloc[0].geom_type, len(g.geometry.iloc[0].exterior.coords)
    ('Polygon', 7)
    """
    import h3

    if "h3_res8_id" not in cells:
        raise SchemaError("h3_cells= needs an 'h3_res8_id' column (BDC H3 res-8 cell ids)")
    ids = cells["h3_res8_id"].astype(str).str.strip().str.lower()
    boundaries = [h3.cell_to_boundary(cell) for cell in ids]  # (lat, lng) vertices, open ring
    sizes = np.fromiter((len(b) for b in boundaries), dtype=np.intp, count=len(boundaries))
    latlng = np.array([v for b in boundaries for v in b], dtype=float).reshape(-1, 2)
    rings = shapely.linearrings(latlng[:, ::-1], indices=np.repeat(np.arange(len(sizes)), sizes))
    polygons = shapely.polygons(rings) if len(sizes) else np.array([], dtype=object)
    return gpd.GeoDataFrame(pd.DataFrame(cells).copy(), geometry=polygons, crs=4326)


def claims_text(table: pd.DataFrame, *, language: str = "en") -> pd.Series:
    """Return one line per area: each provider's technology and claimed speeds."""
    _ = messages(language)
    line = pd.Series([
        _.plural("{provider}: {technology} {down}/{up} Mbps ({count} location)",
                 "{provider}: {technology} {down}/{up} Mbps ({count} locations)", int(n),
                 provider=brand, technology=_(str(tech)), down=int(down), up=int(up))
        for brand, tech, down, up, n in zip(
            table["brand_name"].astype(str), table["technology_name"].astype(str),
            table["claimed_down_mbps"], table["claimed_up_mbps"], table["locations_claimed"],
            strict=True)], index=table.index, dtype=object)
    return line.groupby(table["area_id"], sort=False).agg("; ".join)
