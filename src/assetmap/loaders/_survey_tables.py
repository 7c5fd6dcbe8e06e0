"""The survey's published tables: counts per area, their rates, and their joint suppression.

:func:`aggregate` counts households and answers per area (or zone), :func:`publish` turns a
table of counts into the published rows (rates, suppressed rows blanked), and
:func:`suppress_survey` runs :func:`~assetmap.loaders.suppression.suppress_together` over every
table one :func:`~assetmap.loaders.survey.read_survey` call publishes: the district total,
the areas, and with zones the zones and the total of the zones, with which rows lie inside
which (from the households' own places).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from assetmap.loaders.suppression import suppress_together

__all__ = ["COUNT_COLUMNS", "RATE_COLUMNS", "aggregate", "publish", "suppress_survey"]

COUNT_COLUMNS = ["responses", "home_none", "home_mobile_only", "home_slow", "home_broadband",
                 "device_responses", "no_device", "reason_not_available", "reason_cost",
                 "reason_other"]
RATE_COLUMNS = ["survey_no_internet_rate", "survey_limited_rate", "survey_no_device_rate"]


def aggregate(keys: pd.Series, home: pd.Series, device: pd.Series, reason: pd.Series,
               index: pd.Index) -> pd.DataFrame:
    frame = pd.DataFrame({"key": keys.to_numpy(), "home": home.to_numpy(),
                          "device": device.to_numpy(), "reason": reason.to_numpy()})
    frame = frame.loc[frame["key"].notna()]
    none = frame["home"] == "none"
    counts = pd.DataFrame({
        "key": frame["key"],
        "responses": 1,
        "home_none": none,
        "home_mobile_only": frame["home"] == "mobile_only",
        "home_slow": frame["home"] == "slow",
        "home_broadband": frame["home"] == "broadband",
        "device_responses": frame["device"].notna(),
        "no_device": frame["device"] == "no",
        "reason_not_available": none & (frame["reason"] == "not_available"),
        "reason_cost": none & (frame["reason"] == "cost"),
        "reason_other": none & (frame["reason"] == "other"),
    })
    table = counts.groupby("key").sum().reindex(index, fill_value=0).astype(float)
    table.index.name = None
    return table


def publish(table: pd.DataFrame, suppressed: pd.Series, id_name: str) -> pd.DataFrame:
    out = table[COUNT_COLUMNS].copy()
    responses = out["responses"].replace(0, np.nan)
    out["survey_no_internet_rate"] = out["home_none"] / responses
    out["survey_limited_rate"] = (out["home_none"] + out["home_mobile_only"]
                                  + out["home_slow"]) / responses
    out["survey_no_device_rate"] = out["no_device"] / out["device_responses"].replace(0, np.nan)
    out.loc[suppressed.to_numpy(), COUNT_COLUMNS + RATE_COLUMNS] = np.nan
    out["suppressed"] = suppressed.to_numpy(dtype=bool)
    out.insert(0, id_name, out.index.astype(str))
    return out.reset_index(drop=True)


def suppress_survey(key: pd.Series, zkey: pd.Series | None, by_area: pd.DataFrame,
                    by_zone: pd.DataFrame | None, *, min_cell: int) -> dict[str, pd.Series]:
    """Return the suppression flags of every table published together (see the module).

    ``key`` and ``zkey`` give each household's area and zone (None: in none); the result
    has ``areas`` and, with zones, ``zones`` and ``zoned`` (the total of the zones).
    """
    tables = {"district": pd.Series([by_area["responses"].sum()], index=["all"]),
              "areas": by_area["responses"]}
    hierarchy = [("district", "areas")]
    cross: dict[tuple[str, str], pd.DataFrame] = {}
    if zkey is not None and by_zone is not None:
        pairs = pd.DataFrame({"a": key, "b": zkey}).dropna().value_counts().rename("n")
        pairs = pairs.reset_index()
        in_zones = pairs.groupby("a", as_index=False)["n"].sum().assign(b="all")
        flip = {"a": "b", "b": "a"}
        cross = {("areas", "zones"): pairs, ("zones", "areas"): pairs.rename(columns=flip),
                 ("areas", "zoned"): in_zones, ("zoned", "areas"): in_zones.rename(columns=flip)}
        tables |= {"zones": by_zone["responses"],
                   "zoned": pd.Series([by_zone["responses"].sum()], index=["all"])}
        hierarchy += [("district", "zones"), ("district", "zoned"), ("zoned", "zones"), *cross]
    return suppress_together(tables, hierarchy=hierarchy, cross=cross, min_cell=min_cell,
                             fixed=["district"])
