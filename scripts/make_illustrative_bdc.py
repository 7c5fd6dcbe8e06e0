"""Generate the ILLUSTRATIVE location-level BDC availability layer for Ector County, TX (48135).

Nothing location-level in the output is real. The layer is written in the exact FCC BDC fixed
availability schema and calibrated so that aggregating it by Census place reproduces the real
FCC BDC June-2025 place-level residential shares (data/ector/fcc/
fcc_bdc_J25_fixed_summary_by_place_ector_area.csv). data/ector/fcc/ILLUSTRATIVE_BDC.md says
exactly how, and what is real and what is synthetic.

Usage::

    .venv/bin/python scripts/make_illustrative_bdc.py            # writes into data/ector/fcc/
    .venv/bin/python scripts/make_illustrative_bdc.py --out DIR --seed 20250630

Same seed, same library versions -> byte-identical outputs.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
SEED = 20250630
STEM = "bdc_48_illustrative_ector_fixed_availability_J25"
ZIP_NAME = f"{STEM}.zip"
CSV_NAME = f"{STEM}.csv"
PLACE_NAME = "bdc_48_ector_fixed_J25_illustrative_place_assignment.csv"
COLUMNS = [
    "frn", "provider_id", "brand_name", "location_id", "technology",
    "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
    "business_residential_code", "state_usps", "block_geoid", "h3_res8_id",
]
# FCC summary speed tiers (download, upload), in the order of the summary's columns.
TIERS = [(0.2, 0.2), (10, 1), (25, 3), (100, 20), (250, 25), (1000, 100)]
TIER_COLS = ["speed_02_02", "speed_10_1", "speed_25_3", "speed_100_20", "speed_250_25",
             "speed_1000_100"]

# Place reference points (lat, lon) and the 2020 place GEOIDs. Sources in ILLUSTRATIVE_BDC.md.
PLACES = {
    "4830044": ("Goldsmith", 31.982441, -102.615714),
    "4828200": ("Gardendale", 32.022499, -102.378336),
    "4877728": ("West Odessa", 31.8419, -102.483),
    "4853388": ("Odessa", 31.86333, -102.36556),
}
ODESSA, WEST_ODESSA = "4853388", "4877728"
REST = ""  # place_geoid of locations outside the four places
DOWNTOWN = (31.8457, -102.3676)  # downtown Odessa, the hub of the wired networks
RURAL_TRACTS = {"48135003001", "48135003003"}  # RUCA 2020 primary code 10

# Illustrative providers: (frn, provider_id, brand_name). Generic names; some carry commas.
PROV = {
    "fiber_a": ("0099100011", "990011", "Mesquite Fiber, LLC"),
    "fiber_b": ("0099100012", "990012", "Monahans Draw Telephone Cooperative, Inc."),
    "cable": ("0099100021", "990021", "Sandhill Cable Co."),
    "copper": ("0099100031", "990031", "Pumpjack Telephone Company"),
    "lfw_a": ("0099100041", "990041", "Draw 5G Home Internet"),
    "lfw_b": ("0099100042", "990042", "Caliche Wireless, Inc."),
    "ulfw": ("0099100051", "990051", "Staked Plains Air, LLC"),
    "gso_a": ("0099100061", "990061", "GeoArc Satellite"),
    "gso_b": ("0099100062", "990062", "Clarke Belt Broadband, Inc."),
    "ngso": ("0099100071", "990071", "LowOrbit Broadband"),
}
# FCC summary technology names -> (code, primary provider, speed (down, up) for each tier 0..5).
TECH = {
    "Copper": (10, "copper", [(6, 1), (18, 1), (45, 6), (100, 20), (250, 25), (1000, 100)]),
    "Cable": (40, "cable", [(5, 1), (15, 1), (50, 5), (200, 20), (1000, 50), (2000, 200)]),
    "Fiber": (50, None, [(5, 5), (20, 20), (50, 50), (200, 200), (500, 500), (1000, 1000)]),
    "Licensed Fixed Wireless": (71, "lfw_a", [(5, 1), (15, 2), (50, 5), (100, 20), (300, 30),
                                               (1000, 100)]),
    "Unlicensed Fixed Wireless": (70, "ulfw", [(5, 1), (15, 2), (25, 3), (100, 20), (300, 30),
                                               (1000, 100)]),
}
# BDC low_latency: 1 = provider reports round-trip latency <= 100 ms. GSO satellite 0; every
# terrestrial technology and NGSO (low-earth-orbit) satellite 1. See ILLUSTRATIVE_BDC.md.
LOW_LATENCY = {10: 1, 40: 1, 50: 1, 60: 0, 61: 1, 70: 1, 71: 1}
# Outside the four places there is no real target; these shares (per tier 0..5) are synthetic.
REST_SHARES = {
    "Copper": [0.35, 0.20, 0.05, 0.0, 0.0, 0.0],
    "Cable": [0.25, 0.25, 0.25, 0.25, 0.25, 0.0],
    "Fiber": [0.03, 0.03, 0.03, 0.03, 0.03, 0.03],
    "Licensed Fixed Wireless": [0.92, 0.90, 0.88, 0.60, 0.0, 0.0],
    "Unlicensed Fixed Wireless": [0.75, 0.72, 0.70, 0.50, 0.30, 0.0],
}
MIXED_USE_SHARE = 0.015  # share of residential locations coded X (mixed use)


def load_inputs(data: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    """Read the real inputs: tracts (with households, income, RUCA), block groups, FCC places."""
    tracts = gpd.read_file(data / "boundaries" / "ector_tracts_2020.geojson")
    tracts = tracts[["GEOID", "geometry"]].sort_values("GEOID").reset_index(drop=True)
    acs = pd.read_csv(data / "acs" / "acs_b19001_tracts_ector_midland_andrews.csv",
                      dtype={"GEOID": str})
    acs["inc_hi"] = acs[[f"B19001_{i:03d}E" for i in range(14, 18)]].sum(axis=1) / acs[
        "B19001_001E"]
    tracts = tracts.merge(acs[["GEOID", "B19001_001E", "inc_hi"]], on="GEOID", how="left",
                          validate="1:1")
    if tracts["B19001_001E"].isna().any():
        raise ValueError("a tract has no B19001 household count")
    bgs = pd.read_csv(data / "population" / "ector_blockgroups_2020_pl_population.csv",
                      dtype={"GEOID": str, "TRACT_GEOID": str, "BLKGRPCE": str})
    bgs = bgs.sort_values("GEOID").reset_index(drop=True)
    fcc = pd.read_csv(data / "fcc" / "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv",
                      dtype={"geography_id": str})
    fcc = fcc[(fcc["area_data_type"] == "Total") & (fcc["biz_res"] == "R")
              & fcc["geography_id"].isin(PLACES)]
    return tracts, bgs, fcc


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total in proportion to weights, exactly (Hamilton's method)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(int)
    extra = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:extra]] += 1
    return base


def settlements(tracts, bgs, utm) -> dict[str, tuple[float, float, int, float]]:
    """Small towns inside very large rural block groups (> 50 km2): for each place whose
    reference point lies in a tract, the tract's largest block group puts up to half its
    locations around that point (x, y, count, sigma_m), sized by the place's 2020 population."""
    pops = pd.read_csv(DATA / "population" / "target_places_2020_pl_population_tlc.csv",
                       dtype={"GEOID": str}).set_index("GEOID")
    hh_per_person = tracts["B19001_001E"].sum() / bgs["POP2020"].sum()
    tr_m = tracts.to_crs(utm).set_index("GEOID")
    out = {}
    for g, (_, lat, lon) in PLACES.items():
        p = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(utm).iloc[0]
        hit = tr_m.index[tr_m.contains(p)]
        if len(hit) == 0:
            continue
        sub = bgs[bgs["TRACT_GEOID"] == hit[0]]
        big = sub.loc[sub["tlc_shape_area_m2"].idxmax()]
        if big["tlc_shape_area_m2"] > 50e6:
            n = round(pops.at[g, "POP2020"] * hh_per_person)
            sigma = np.sqrt(pops.at[g, "tlc_shape_area_m2"] / np.pi)
            out[big["GEOID"]] = (p.x, p.y, n, sigma)
    return out


def spread_locations(rng, tracts, bgs) -> pd.DataFrame:
    """One row per location: tract, block group, jittered point inside the tract (metres)."""
    utm = tracts.estimate_utm_crs()
    tr_m = tracts.to_crs(utm).set_index("GEOID")
    towns = settlements(tracts, bgs, utm)
    centre = gpd.GeoSeries(gpd.points_from_xy(bgs["popctr_lon"], bgs["popctr_lat"]),
                           crs=4326).to_crs(utm)
    bgs = bgs.assign(cx=centre.x.to_numpy(), cy=centre.y.to_numpy())
    parts = []
    for geoid, hh in zip(tracts["GEOID"], tracts["B19001_001E"].astype(int), strict=True):
        sub = bgs[bgs["TRACT_GEOID"] == geoid]
        counts = largest_remainder(hh, sub["POP2020"].to_numpy(float))
        poly = tr_m.geometry[geoid]
        shapely.prepare(poly)
        for (_, bg), n in zip(sub.iterrows(), counts, strict=True):
            side = np.sqrt(bg["tlc_shape_area_m2"])
            sigma = np.where(rng.random(n) < 0.65, 0.18 * side, 0.45 * side)
            ox = np.full(n, bg["cx"])
            oy = np.full(n, bg["cy"])
            if bg["GEOID"] in towns:  # part of the block group lives in a small town
                tx, ty, tn, ts = towns[bg["GEOID"]]
                k = min(tn, n // 2)
                ox[:k], oy[:k], sigma[:k] = tx, ty, ts
            x, y = ox.copy(), oy.copy()
            todo = np.ones(n, bool)
            for _ in range(30):  # rejection sampling: keep the points inside the tract
                k = int(todo.sum())
                if k == 0:
                    break
                dx, dy = rng.normal(0.0, 1.0, (2, k)) * sigma[todo]
                x[todo], y[todo] = ox[todo] + dx, oy[todo] + dy
                todo[todo] = ~shapely.contains_xy(poly, x[todo], y[todo])
            x[todo], y[todo] = bg["cx"], bg["cy"]  # the centre lies inside its tract
            parts.append(pd.DataFrame({"tract": geoid, "bg": bg["GEOID"], "x": x, "y": y}))
    loc = pd.concat(parts, ignore_index=True)
    ll = gpd.GeoSeries(gpd.points_from_xy(loc["x"], loc["y"]), crs=utm).to_crs(4326)
    loc["lon"], loc["lat"] = ll.x.to_numpy(), ll.y.to_numpy()
    return loc


def fix_h3(rng, loc, tracts) -> pd.DataFrame:
    """Give each location an H3 res-8 cell whose centre lies in its tract, moving it if needed."""
    loc = loc.copy()
    loc["h3"] = [h3.latlng_to_cell(a, b, 8) for a, b in zip(loc["lat"], loc["lon"], strict=True)]
    polys = tracts.set_index("GEOID").geometry
    for geoid, poly in polys.items():
        shapely.prepare(poly)
        idx = np.flatnonzero(loc["tract"].to_numpy() == geoid)
        cells = loc["h3"].to_numpy()[idx]
        uniq = np.unique(cells)
        cen = np.array([h3.cell_to_latlng(c) for c in uniq])
        ok_cell = dict(zip(uniq, shapely.contains_xy(poly, cen[:, 1], cen[:, 0]), strict=True))
        bad = idx[~np.array([ok_cell[c] for c in cells], bool)]
        if len(bad) == 0:
            continue
        valid = sorted(h3.geo_to_cells(poly.__geo_interface__, 8))
        vcen = np.array([h3.cell_to_latlng(c) for c in valid])
        keep = shapely.contains_xy(poly, vcen[:, 1], vcen[:, 0])
        valid, vcen = [c for c, k in zip(valid, keep, strict=True) if k], vcen[keep]
        # move each such location to the nearest cell whose centre is inside, near its centre
        lat0, lon0 = loc["lat"].to_numpy()[bad], loc["lon"].to_numpy()[bad]
        d = (vcen[None, :, 0] - lat0[:, None]) ** 2 + (vcen[None, :, 1] - lon0[:, None]) ** 2
        j = np.argmin(d, axis=1)
        lat = vcen[j, 0] + rng.normal(0.0, 0.0008, len(bad))
        lon = vcen[j, 1] + rng.normal(0.0, 0.0008, len(bad))
        same = np.array([h3.latlng_to_cell(a, b, 8) == valid[k]
                         for a, b, k in zip(lat, lon, j, strict=True)], bool)
        lat[~same], lon[~same] = vcen[j[~same], 0], vcen[j[~same], 1]
        loc.loc[bad, "lat"], loc.loc[bad, "lon"] = lat, lon
        loc.loc[bad, "h3"] = [valid[k] for k in j]
    return loc


def assign_places(loc, bgs, tracts) -> pd.Series:
    """Capacity rule: small places first take their nearest locations; see ILLUSTRATIVE_BDC.md."""
    pops = pd.read_csv(DATA / "population" / "target_places_2020_pl_population_tlc.csv",
                       dtype={"GEOID": str}).set_index("GEOID")
    hh_per_person = tracts["B19001_001E"].sum() / bgs["POP2020"].sum()
    utm = tracts.estimate_utm_crs()
    pts = gpd.GeoSeries(gpd.points_from_xy(loc["lon"], loc["lat"]), crs=4326).to_crs(utm)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    ref = {}
    for g, (_, lat, lon) in PLACES.items():
        p = gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326).to_crs(utm)
        radius = np.sqrt(pops.at[g, "tlc_shape_area_m2"] / np.pi)
        ref[g] = (np.hypot(x - p.x.iloc[0], y - p.y.iloc[0]), radius)
    place = np.full(len(loc), REST, dtype=object)
    for g in PLACES:  # Goldsmith, Gardendale, West Odessa, Odessa
        target = round(pops.at[g, "POP2020"] * hh_per_person)
        rel = ref[g][0] / ref[g][1]
        free = place == REST
        if g in (ODESSA, WEST_ODESSA):  # the urban places take nothing from RUCA-10 tracts
            free &= ~loc["tract"].isin(RURAL_TRACTS).to_numpy()
        if g == WEST_ODESSA:  # only locations relatively nearer to West Odessa than to Odessa
            free &= rel <= ref[ODESSA][0] / ref[ODESSA][1]
        cand = np.flatnonzero(free)
        take = cand[np.argsort(rel[cand], kind="stable")[:target]]
        place[take] = g
    return pd.Series(place, index=loc.index, name="place_geoid")


def assign_blocks(loc) -> pd.Series:
    """Illustrative block numbers: one per (block group, place, H3 cell), numbered in order."""
    key = loc[["bg", "place_geoid", "h3"]].drop_duplicates().sort_values(["bg", "place_geoid",
                                                                           "h3"])
    key["n"] = key.groupby("bg").cumcount() + 1
    if key["n"].max() > 999:
        raise ValueError("more than 999 illustrative blocks in a block group")
    key["block_geoid"] = key["bg"].str[:11] + key["bg"].str[11] + key["n"].map("{:03d}".format)
    return loc.merge(key, on=["bg", "place_geoid", "h3"], how="left")["block_geoid"]


def smooth_field(rng, x, y, n_bumps=40, scale_m=2500.0) -> np.ndarray:
    """A seeded, spatially smooth random field (sum of Gaussian bumps), standardised."""
    cx = rng.uniform(x.min(), x.max(), n_bumps)
    cy = rng.uniform(y.min(), y.max(), n_bumps)
    w = rng.normal(0.0, 1.0, n_bumps)
    f = np.zeros(len(x))
    for a, b, c in zip(cx, cy, w, strict=True):
        f += c * np.exp(-((x - a) ** 2 + (y - b) ** 2) / (2 * scale_m**2))
    return (f - f.mean()) / (f.std() or 1.0)


def zscore(v) -> np.ndarray:
    v = np.asarray(v, float)
    return (v - v.mean()) / (v.std() or 1.0)


def pick(score, n, strata) -> np.ndarray:
    """Choose n members by score: first exactly k from each (mask, k) stratum, the rest from
    the locations left (best score first). Used to hit the real unions of technologies."""
    chosen = np.zeros(len(score), bool)
    covered = np.zeros(len(score), bool)
    for mask, k in strata:
        cand = np.flatnonzero(mask & ~chosen)
        chosen[cand[np.argsort(-score[cand], kind="stable")[: max(0, min(k, n))]]] = True
        covered |= mask
    for pool in (~covered & ~chosen, ~chosen):  # the rest: outside the strata first
        cand = np.flatnonzero(pool)
        extra = max(0, n - int(chosen.sum()))
        chosen[cand[np.argsort(-score[cand], kind="stable")[:extra]]] = True
    return chosen


def best_tiers(members, speed_score, counts) -> np.ndarray:
    """Best tier (0..5, -1 = no offer): among the members the highest speed_score reach the
    higher tiers, with exactly counts[k] locations reaching tier k."""
    tier = np.full(len(members), -1)
    idx = np.flatnonzero(members)
    ranked = idx[np.argsort(-speed_score[idx], kind="stable")]
    for k in range(6):
        tier[ranked[: counts[k]]] = k
    return tier


def place_tiers(member, speed, shares, unions) -> dict[str, np.ndarray]:
    """Best tier per technology for the locations of one place.

    Members are chosen in the order cable, fiber, copper, licensed FW, unlicensed FW, each
    taking from outside the technologies chosen before it exactly as many locations as the real
    union rows ask (``unions``: FCC 'Cable/Fiber', 'All Wired', ..., at 0.2/0.2, as counts).
    """
    n = len(next(iter(member.values())))
    cnt = {t: np.minimum.accumulate(np.round(s * n).astype(int)) for t, s in shares.items()}
    has: dict[str, np.ndarray] = {}

    has["Cable"] = pick(member["Cable"], cnt["Cable"][0], [])
    c = has["Cable"]
    if unions:
        has["Fiber"] = pick(member["Fiber"], cnt["Fiber"][0],
                            [(~c, unions["Cable/Fiber"] - c.sum())])
        cf = c | has["Fiber"]
        has["Copper"] = pick(member["Copper"], cnt["Copper"][0],
                             [(~cf, unions["All Wired"] - cf.sum())])
        w = cf | has["Copper"]
        has["Licensed Fixed Wireless"] = pick(
            member["Licensed Fixed Wireless"], cnt["Licensed Fixed Wireless"][0],
            [(~w, unions["All Wired and Licensed Fixed Wireless"] - w.sum())])
        lw = has["Licensed Fixed Wireless"]
        a = max(0, unions["Any Terrestrial"] - (w | lw).sum())
        b = unions["All Fixed Wireless"] - lw.sum() - a
        has["Unlicensed Fixed Wireless"] = pick(
            member["Unlicensed Fixed Wireless"], cnt["Unlicensed Fixed Wireless"][0],
            [(~(w | lw), a), (w & ~lw, b)])
    else:
        for t in TECH:
            if t != "Cable":
                has[t] = pick(member[t], cnt[t][0], [])
    tiers = {t: best_tiers(has[t], speed[t], cnt[t]) for t in TECH}
    if unions:  # unlicensed FW at 250/25: as many outside the others at 250/25 as the real union
        u = "Unlicensed Fixed Wireless"
        others = np.zeros(n, bool)
        for t in TECH:
            if t != u:
                others |= tiers[t] >= 4
        members = has[u]
        m = max(0, unions["Any Terrestrial 250/25"] - int(others.sum()))
        top = pick(np.where(members, speed[u], -np.inf), cnt[u][4], [(members & ~others, m)])
        tiers[u] = best_tiers(members, speed[u] + 1e6 * top, cnt[u])
    return tiers


def offers(rng, loc, tracts, fcc) -> pd.DataFrame:
    """Calibrate, place by place, which locations get which technology at which speed."""
    utm = tracts.estimate_utm_crs()
    pts = gpd.GeoSeries(gpd.points_from_xy(loc["lon"], loc["lat"]), crs=4326).to_crs(utm)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    dt = gpd.GeoSeries(gpd.points_from_xy([DOWNTOWN[1]], [DOWNTOWN[0]]), crs=4326).to_crs(utm)
    dist = zscore(np.hypot(x - dt.x.iloc[0], y - dt.y.iloc[0]))
    inc = zscore(loc["tract"].map(tracts.set_index("GEOID")["inc_hi"]))
    rural = loc["tract"].isin(RURAL_TRACTS).to_numpy(float)
    n = len(loc)
    noise = lambda s: rng.normal(0.0, s, n)  # noqa: E731
    member = {
        "Fiber": 1.2 * inc + 1.0 * smooth_field(rng, x, y) - 4 * rural + noise(0.35),
        "Cable": -1.0 * dist + 0.5 * smooth_field(rng, x, y) - 4 * rural + noise(0.3),
        "Copper": -1.5 * dist + 0.7 * smooth_field(rng, x, y) - 3 * rural + noise(0.5),
        "Licensed Fixed Wireless": smooth_field(rng, x, y) - 0.3 * dist + noise(0.5),
        "Unlicensed Fixed Wireless": smooth_field(rng, x, y) + rural + 0.5 * dist + noise(0.5),
    }
    speed = {
        "Fiber": noise(1.0),
        "Cable": -dist + noise(0.5),
        "Copper": -2.0 * dist + noise(0.5),  # DSL speed falls with distance from the office
        "Licensed Fixed Wireless": smooth_field(rng, x, y) + noise(0.5),
        "Unlicensed Fixed Wireless": smooth_field(rng, x, y) + noise(0.5),
    }
    place = loc["place_geoid"].to_numpy()
    best = {t: np.full(n, -1) for t in TECH}
    union_names = ["Cable/Fiber", "All Wired", "All Wired and Licensed Fixed Wireless",
                   "Any Terrestrial", "All Fixed Wireless"]
    for g in [*PLACES, REST]:
        idx = np.flatnonzero(place == g)
        if g == REST:
            shares = {t: np.array(REST_SHARES[t]) for t in TECH}
            unions = {}
        else:
            rows_g = fcc[fcc["geography_id"] == g].set_index("technology")
            shares = {t: rows_g.loc[t, TIER_COLS].to_numpy(float) for t in TECH}
            unions = {u: round(rows_g.at[u, "speed_02_02"] * len(idx)) for u in union_names}
            unions["Any Terrestrial 250/25"] = round(
                rows_g.at["Any Terrestrial", "speed_250_25"] * len(idx))
        tiers = place_tiers({t: member[t][idx] for t in TECH}, {t: speed[t][idx] for t in TECH},
                            shares, unions)
        for t in TECH:
            best[t][idx] = tiers[t]

    rows = []

    def add(mask, prov, code, down, up):
        k = int(mask.sum())
        frn, pid, brand = PROV[prov]
        rows.append(pd.DataFrame({
            "frn": frn, "provider_id": pid, "brand_name": brand,
            "i": np.flatnonzero(mask), "technology": code,
            "max_advertised_download_speed": np.broadcast_to(down, k),
            "max_advertised_upload_speed": np.broadcast_to(up, k),
        }))

    for t, (code, prov, speeds) in TECH.items():
        sp = np.array(speeds)
        tier = best[t]
        has = tier >= 0
        if t == "Fiber":  # West Odessa and the rest of the county get the cooperative's fiber
            west = np.isin(place, ["4877728", REST])
            for p, m in (("fiber_a", has & ~west), ("fiber_b", has & west)):
                add(m, p, code, sp[tier[m], 0], sp[tier[m], 1])
            continue
        add(has, prov, code, sp[tier[has], 0], sp[tier[has], 1])
        if t == "Licensed Fixed Wireless":  # a second, slower licensed FW provider here and there
            second = has & (rng.random(n) < 0.35)
            lower = np.maximum(tier[second] - 1, 0)
            add(second, "lfw_b", code, sp[lower, 0], sp[lower, 1])
    everyone = np.ones(n, bool)
    add(everyone, "gso_a", 60, 100, 5)
    add(everyone, "gso_b", 60, 150, 3)
    add(everyone, "ngso", 61, 350, 40)
    out = pd.concat(rows, ignore_index=True)
    out["low_latency"] = out["technology"].map(LOW_LATENCY)
    return out


def location_ids(rng, n) -> np.ndarray:
    """Unique 10-digit location ids (strings), in a random order."""
    ids = np.unique(rng.integers(1_000_000_000, 1_999_999_999, int(n * 1.2)))
    ids = rng.permutation(ids)[:n]
    if len(ids) < n:
        raise ValueError("not enough unique location ids drawn")
    return np.array([f"{v:010d}" for v in ids])


def build(seed: int = SEED, data: Path = DATA) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (availability rows in the BDC schema, block -> place assignment)."""
    rng = np.random.default_rng(seed)
    tracts, bgs, fcc = load_inputs(data)
    loc = spread_locations(rng, tracts, bgs)
    loc = fix_h3(rng, loc, tracts)
    loc["place_geoid"] = assign_places(loc, bgs, tracts).to_numpy()
    loc["block_geoid"] = assign_blocks(loc).to_numpy()
    loc["location_id"] = location_ids(rng, len(loc))
    loc["business_residential_code"] = np.where(rng.random(len(loc)) < MIXED_USE_SHARE, "X", "R")
    off = offers(rng, loc, tracts, fcc)
    keep = ["location_id", "business_residential_code", "block_geoid", "h3"]
    avail = off.join(loc[keep], on="i").rename(columns={"h3": "h3_res8_id"})
    avail["state_usps"] = "TX"
    avail = avail.sort_values(["technology", "provider_id", "block_geoid", "location_id"],
                              kind="stable")[COLUMNS].reset_index(drop=True)
    names = {g: v[0] for g, v in PLACES.items()} | {REST: "Rest of Ector County"}
    assign = (loc.groupby(["block_geoid", "place_geoid"]).size().rename("locations")
              .reset_index())
    assign["place_name"] = assign["place_geoid"].map(names)
    assign.insert(1, "tract_geoid", assign["block_geoid"].str[:11])
    assign.insert(2, "block_group_geoid", assign["block_geoid"].str[:12])
    return avail, assign


def write(avail: pd.DataFrame, assign: pd.DataFrame, out: Path) -> tuple[Path, Path]:
    """Write the zip (one CSV, fixed timestamp) and the place-assignment CSV, deterministically."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    avail.to_csv(buf, index=False, lineterminator="\n")
    info = zipfile.ZipInfo(CSV_NAME, date_time=(2026, 2, 17, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zpath = out / ZIP_NAME
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr(info, buf.getvalue().encode("utf-8"), compresslevel=9)
    ppath = out / PLACE_NAME
    assign.to_csv(ppath, index=False, lineterminator="\n")
    return zpath, ppath


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "fcc", help="output directory")
    ap.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = ap.parse_args(argv)
    avail, assign = build(args.seed)
    zpath, ppath = write(avail, assign, args.out)
    print(f"wrote {zpath} ({zpath.stat().st_size / 1e6:.2f} MB, {len(avail):,} rows, "
          f"{avail['location_id'].nunique():,} locations) and {ppath} ({len(assign):,} blocks)")


if __name__ == "__main__":
    main()
