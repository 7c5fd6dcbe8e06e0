"""Generate an ILLUSTRATIVE household connectivity survey for Ector County, TX (seeded).

Writes data/ector/survey/ector_family_survey_illustrative.csv: about 1,500 synthetic
households, one row each, in the form a district survey export takes (``lat, lon`` or only
a tract ``GEOID``; ``home_internet``, ``device``, ``reason``). None of it is survey data.

* Where: households are drawn in proportion to the 2020 block-group populations and placed
  around the Census Bureau's population-weighted block-group centres
  (data/ector/population/), kept inside their tract. About 5% give only their tract GEOID.
* What: per tract, the chance of no home internet follows the tract's ACS 2015-19
  no-internet share (dominant 2010 parent tract), and the chance of limited internet (none,
  mobile only or slow) rises with the ACS 2019-23 share without a broadband subscription,
  scaled so that about 39% of households report limited or no internet overall (the figure
  Ector County ISD reported from its own survey). No device follows the ACS no-computer
  share plus a small floor. Households without internet give a reason: "not available"
  is likelier in the rural (RUCA >= 4) tracts and "cost" elsewhere.

Run: .venv/bin/python scripts/make_illustrative_survey.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SEED = 39
N_HOUSEHOLDS = 1500
TARGET_LIMITED = 0.39
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
OUT = DATA / "survey" / "ector_family_survey_illustrative.csv"


def tract_rates(acs: pd.DataFrame) -> pd.DataFrame:
    """Per-tract answer probabilities, calibrated to TARGET_LIMITED (household-weighted)."""
    none = acs["parent10_pct_no_internet_acs2015_19"] / 100
    no_broadband = 1 - acs["pct_broadband_DP02_0154PE"] / 100
    weights = acs["hh_total_derived"]
    lo, hi = 0.0, 1.0
    for _ in range(60):  # bisection on the extra limited share
        extra = (lo + hi) / 2
        limited = np.clip(none + 1.2 * no_broadband + extra, none, 0.9)
        if np.average(limited, weights=weights) < TARGET_LIMITED:
            lo = extra
        else:
            hi = extra
    rates = pd.DataFrame({"GEOID": acs["GEOID"], "p_none": none, "p_limited": limited})
    rates["p_mobile"] = 0.55 * (rates["p_limited"] - rates["p_none"])
    rates["p_slow"] = rates["p_limited"] - rates["p_none"] - rates["p_mobile"]
    rates["p_no_device"] = np.clip(acs["pct_no_computer_derived"] / 100 + 0.04, 0, 0.6)
    rates["rural"] = acs["RUCA1_primary"] >= 4
    return rates.set_index("GEOID")


def main() -> None:
    rng = np.random.default_rng(SEED)
    bg = pd.read_csv(DATA / "population" / "ector_blockgroups_2020_pl_population.csv",
                     dtype={"GEOID": str, "TRACT_GEOID": str})
    acs = pd.read_csv(DATA / "acs" / "ector_tracts2020_round2_joined.csv", dtype={"GEOID": str})
    tracts = gpd.read_file(DATA / "boundaries" / "ector_tracts_2020.geojson").to_crs(4326)
    shapes = dict(zip(tracts["GEOID"], tracts.geometry, strict=True))
    rates = tract_rates(acs)

    picks = bg.sample(N_HOUSEHOLDS, replace=True, weights="POP2020",
                      random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    lat = picks["popctr_lat"].to_numpy() + rng.normal(0, 0.004, N_HOUSEHOLDS)
    lon = picks["popctr_lon"].to_numpy() + rng.normal(0, 0.004, N_HOUSEHOLDS)
    for _ in range(50):  # redraw points that fell outside their tract
        polys = np.array([shapes[g] for g in picks["TRACT_GEOID"]])
        outside = ~shapely.covers(polys, shapely.points(lon, lat))
        if not outside.any():
            break
        k = int(outside.sum())
        lat[outside] = picks.loc[outside, "popctr_lat"].to_numpy() + rng.normal(0, 0.002, k)
        lon[outside] = picks.loc[outside, "popctr_lon"].to_numpy() + rng.normal(0, 0.002, k)
    still = ~shapely.covers(np.array([shapes[g] for g in picks["TRACT_GEOID"]]),
                            shapely.points(lon, lat))
    lat[still] = picks.loc[still, "popctr_lat"].to_numpy()
    lon[still] = picks.loc[still, "popctr_lon"].to_numpy()

    r = rates.loc[picks["TRACT_GEOID"]].reset_index(drop=True)
    u = rng.random(N_HOUSEHOLDS)
    home = np.select(
        [u < r["p_none"], u < r["p_none"] + r["p_mobile"], u < r["p_limited"]],
        ["none", "mobile only", "slow"], default="broadband",
    )
    device = np.where(rng.random(N_HOUSEHOLDS) < r["p_no_device"], "no", "yes")
    p_na = np.where(r["rural"], 0.6, 0.2)
    v = rng.random(N_HOUSEHOLDS)
    reason = np.select([v < p_na, v < p_na + (1 - p_na) * 0.7], ["not available", "cost"],
                       default="other")
    reason = np.where(home == "none", reason, "")
    survey = pd.DataFrame({"lat": lat.round(6), "lon": lon.round(6), "GEOID": "",
                           "home_internet": home, "device": device, "reason": reason})
    geoid_only = rng.random(N_HOUSEHOLDS) < 0.05
    survey.loc[geoid_only, ["lat", "lon"]] = np.nan
    survey.loc[geoid_only, "GEOID"] = picks.loc[geoid_only, "TRACT_GEOID"].to_numpy()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    survey.to_csv(OUT, index=False)
    limited = np.isin(home, ["none", "mobile only", "slow"]).mean()
    print(f"wrote {OUT.relative_to(ROOT)}: {len(survey)} illustrative households; "
          f"limited or no internet: {limited:.1%}; no device: {(device == 'no').mean():.1%}")


if __name__ == "__main__":
    main()
