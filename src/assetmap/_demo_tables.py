"""Build the demo's ACS table and weighted points from the shipped Ector County files.

The shipped ACS files are published cuts (OEPS, ami-affordability-map) rather than Census API
downloads, so they carry percentages for some tables and no margins of error. This module turns
them into the documented ACS columns (docs/data-model.md), says which vintage each column has,
and notes that margins of error are not available for the demo (so no CV flags can be raised).

=====================  =========================================================================
column                 source (all real public data)
=====================  =========================================================================
households             B19001_001E, ACS 5-year 2019-2023, 2020 tracts
income_lt25k_share     (B19001_002E..005E) / B19001_001E, ACS 2019-2023
no_computer_share      1 - DP02_0153PE / 100, ACS 2019-2023
no_broadband_share     1 - DP02_0154PE / 100, ACS 2019-2023
no_internet_share      B28002_013E / B28002_001E, ACS 2015-2019 on 2010 tracts, area-weighted
poverty_share          S1701 % below poverty, ACS 2014-2018 on 2010 tracts, area-weighted
population, children   2020 census (PL 94-171) block-group totals; children = total - 18+
=====================  =========================================================================
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from assetmap._report import attach_report, start_report
from assetmap._shipped import data_path
from assetmap.loaders.acs import acs_to_2020_tracts

__all__ = ["ector_acs", "ector_points"]

_ECTOR = "48135"
_ACS_1923 = "ACS 5-year 2019-2023"
_CENSUS_2020 = "2020 census (PL 94-171), block groups summed to tracts"


def _ector(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["GEOID"].str.startswith(_ECTOR)].reset_index(drop=True)


def _acs_2010_tracts() -> pd.DataFrame:
    """B28002 (2015-19) and poverty (2014-18) on 2010 tracts, ready to move to 2020 tracts."""
    internet = _ector(pd.read_csv(
        data_path("acs", "acs5_2015_2019_b28002_internet_tracts2010.csv"), dtype={"GEOID": str}
    ))
    poverty = _ector(pd.read_csv(
        data_path("acs", "acs5_2014_2018_poverty_unemp_pci_tracts2010.csv"), dtype={"GEOID": str}
    ))
    frame = pd.DataFrame({
        "GEOID": internet["GEOID"],
        "B28002_001E": internet["B28002_001E_total_hh"].astype(float),
        "B28002_002E": internet["B28002_002E_with_subscription"].astype(float),
        "B28002_012E": internet["B28002_012E_access_without_subscription"].astype(float),
        "B28002_013E": internet["B28002_013E_no_internet"].astype(float),
    }).merge(
        pd.DataFrame({"GEOID": poverty["GEOID"],
                      "poverty_share": poverty["pct_below_poverty"].astype(float) / 100}),
        on="GEOID", how="outer", validate="one_to_one",
    )
    frame["no_internet_share"] = frame["B28002_013E"] / frame["B28002_001E"]
    report = start_report(
        "shipped ACS 2010-tract cuts", kind="acs", rows_read=len(frame),
        vintages={"no_internet_share": "ACS 5-year 2015-2019 (B28002)",
                  "poverty_share": "ACS 5-year 2014-2018 (S1701)"},
        sources=[{"name": "US Census Bureau, American Community Survey 5-year estimates, via "
                          "the Opioid Environment Policy Scan (OEPS), UIUC",
                  "vintage": "2014-2018 and 2015-2019 (2010 tracts)",
                  "license": "public domain (US government work)"}],
    )
    return attach_report(frame, report)


def ector_acs() -> pd.DataFrame:
    """Return the demo's ACS table for the 33 Ector County 2020 tracts.

    Returns
    -------
    pandas.DataFrame
        ``GEOID`` plus the ACS columns of the module docstring; the report's ``vintages`` say
        each column's vintage and ``notes`` say that margins of error are not available.

    Examples
    --------
    >>> acs = ector_acs()
    >>> len(acs), int(acs["households"].sum())
    (33, 62422)
    """
    income = _ector(pd.read_csv(
        data_path("acs", "acs_b19001_tracts_ector_midland_andrews.csv"), dtype={"GEOID": str}
    ))
    dp02 = _ector(pd.read_csv(
        data_path("acs", "acs5_2019_2023_dp02_computer_broadband_tracts2020.csv"),
        dtype={"GEOID": str},
    ))
    moved = acs_to_2020_tracts(
        _acs_2010_tracts(),
        relationship=data_path("acs", "census_rel2020_tract20_tract10_ector.txt"),
    )
    moved = moved[["GEOID", "no_internet_share", "poverty_share"]]
    people = ector_points()
    by_tract = people.groupby("TRACT_GEOID")[["population", "children"]].sum()
    low_income = income[[f"B19001_{i:03d}E" for i in range(2, 6)]].sum(axis=1)
    frame = pd.DataFrame({
        "GEOID": income["GEOID"],
        "households": income["B19001_001E"].astype(float),
        "income_lt25k_share": low_income / income["B19001_001E"],
    })
    frame = frame.merge(
        pd.DataFrame({
            "GEOID": dp02["GEOID"],
            "no_computer_share": 1 - dp02["pct_with_computer_DP02_0153PE"] / 100,
            "no_broadband_share": 1 - dp02["pct_broadband_DP02_0154PE"] / 100,
        }),
        on="GEOID", how="outer", validate="one_to_one",
    ).merge(moved, on="GEOID", how="outer", validate="one_to_one")
    frame["population"] = frame["GEOID"].map(by_tract["population"]).astype(float)
    frame["children"] = frame["GEOID"].map(by_tract["children"]).astype(float)
    frame = frame.sort_values("GEOID").reset_index(drop=True)
    moved_report = moved.attrs.get("assetmap", {})
    vintages = {
        "households": _ACS_1923 + " (B19001)",
        "income_lt25k_share": _ACS_1923 + " (B19001)",
        "no_computer_share": _ACS_1923 + " (DP02)",
        "no_broadband_share": _ACS_1923 + " (DP02)",
        "population": _CENSUS_2020,
        "children": _CENSUS_2020 + " (population under 18)",
        **{k: v for k, v in moved_report.get("vintages", {}).items()
           if k in ("no_internet_share", "poverty_share")},
    }
    report = start_report(
        "shipped Ector County ACS cuts", kind="acs", rows_read=len(frame), vintages=vintages,
        sources=[
            {"name": "US Census Bureau, American Community Survey 5-year estimates",
             "vintage": "2019-2023 (B19001, DP02); 2015-2019 (B28002); 2014-2018 (poverty)",
             "license": "public domain (US government work)"},
            {"name": "US Census Bureau, 2020 census redistricting data (PL 94-171), via the "
                     "Texas Legislative Council", "vintage": "2020",
             "license": "public domain (US government work)"},
            *moved_report.get("sources", []),
        ],
    )
    report["notes"].append(
        "margins of error are not in the shipped ACS cuts, so no CV reliability flag can be "
        "computed for the demo; a study with load_acs() carries them"
    )
    report["notes"].extend(moved_report.get("notes", []))
    return attach_report(frame, report)


def ector_points() -> gpd.GeoDataFrame:
    """Return the 119 Ector County block groups' population-weighted centres (2020 census).

    Returns
    -------
    geopandas.GeoDataFrame
        ``GEOID`` (12 characters), ``TRACT_GEOID``, ``population``, ``children`` (total minus
        voting-age population), ``weight`` (= population), point geometry in EPSG:4326.

    Examples
    --------
    >>> pts = ector_points()
    >>> len(pts), int(pts["population"].sum())
    (119, 165171)
    """
    table = pd.read_csv(
        data_path("population", "ector_blockgroups_2020_pl_population.csv"),
        dtype={"GEOID": str, "TRACT_GEOID": str},
    )
    points = gpd.GeoDataFrame(
        {
            "GEOID": table["GEOID"],
            "TRACT_GEOID": table["TRACT_GEOID"],
            "population": table["POP2020"].astype(float),
            "children": (table["tlc_total"] - table["tlc_vap"]).astype(float),
        },
        geometry=gpd.points_from_xy(table["popctr_lon"], table["popctr_lat"]),
        crs=4326,
    )
    points["weight"] = points["population"]
    report = start_report(
        str(data_path("population", "ector_blockgroups_2020_pl_population.csv")),
        kind="points", rows_read=len(table),
        vintages={"population": _CENSUS_2020},
        sources=[{"name": "US Census Bureau, 2020 Centers of Population by block group",
                  "vintage": "2020", "license": "public domain (US government work)"}],
    )
    return attach_report(points, report)
