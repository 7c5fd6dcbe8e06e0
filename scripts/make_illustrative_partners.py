"""Generate an ILLUSTRATIVE partner-site registry for Ector County, TX (seeded, reproducible).

Writes data/ector/partners/ector_partner_sites_illustrative.csv in the partner-site schema
(docs/data-model.md "Partner sites"): a plausible registry of the kinds of partners the
Office of Ed Tech webinar describes, with generic names at plausible coordinates:

* church learning centers (Middletown) offering tutoring and child care, most without public
  Wi-Fi of their own (the connectivity problem they had);
* community centers with Wi-Fi, computer labs and digital-literacy classes;
* parking-lot Wi-Fi at four real Ector County ISD campuses (TEA 2023-24 coordinates; the
  Wi-Fi service itself is illustrative);
* traffic-sign hotspots (Roanoke) with a coverage radius;
* a Wi-Fi bus (South Bend) with stops in the fringe and rural tracts, one row per stop
  sharing a route and schedule;
* a laundromat, a public-housing computer room;
* statuses spread over Oakland's process (inquiry, vetted, agreement_signed, active, ended).

Points are drawn near the Census Bureau's 2020 block-group population centres and kept
inside the county. The real library and anchor sites are NOT here: read them with
``assetmap.loaders.partners.anchor_sites_as_partners()``.

Run: .venv/bin/python scripts/make_illustrative_partners.py
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SEED = 20211027
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "ector"
OUT = DATA / "partners" / "ector_partner_sites_illustrative.csv"


def _near(rng: np.random.Generator, bg: pd.DataFrame, county, tracts: list[str] | None,
          n: int, sd_deg: float = 0.004) -> list[tuple[float, float]]:
    """Return n (lat, lon) points near population centres of the given tracts, inside the county."""
    pool = bg if tracts is None else bg[bg["TRACT_GEOID"].isin(tracts)]
    points: list[tuple[float, float]] = []
    while len(points) < n:
        row = pool.sample(1, weights="POP2020", random_state=int(rng.integers(1 << 31))).iloc[0]
        lat = row["popctr_lat"] + rng.normal(0, sd_deg)
        lon = row["popctr_lon"] + rng.normal(0, sd_deg)
        if shapely.covers(county, shapely.Point(lon, lat)):
            points.append((round(lat, 6), round(lon, 6)))
    return points


def main() -> None:
    rng = np.random.default_rng(SEED)
    bg = pd.read_csv(DATA / "population" / "ector_blockgroups_2020_pl_population.csv",
                     dtype={"GEOID": str, "TRACT_GEOID": str})
    county = gpd.read_file(DATA / "boundaries" / "ector_county_2020.geojson").to_crs(4326)
    county_geom = shapely.union_all(county.geometry.to_numpy())
    schools = pd.read_csv(DATA / "schools" / "tea_schools_2023_24_ector_midland_andrews.csv")
    schools = schools[schools["District_ISD"] == "ECTOR COUNTY ISD"]
    rows: list[dict[str, object]] = []

    def add(name, site_type, services, status, point, **extra):
        rows.append({"name": name, "site_type": site_type, "services": services,
                     "status": status, "lat": point[0], "lon": point[1], **extra})

    church_status = ["active", "agreement_signed", "vetted", "inquiry"]
    for i, point in enumerate(_near(rng, bg, county_geom, None, 4), start=1):
        services = "tutoring;child_care" if i != 1 else "tutoring;child_care;public_wifi"
        add(f"Church learning center {i}", "place_of_worship", services, church_status[i - 1],
            point, capacity_seats=int(rng.integers(15, 40)), hours="Mon-Thu 15:30-18:30",
            wifi_radius_m=30 if i == 1 else None)
    cc_status = ["active", "active", "ended"]
    for i, point in enumerate(_near(rng, bg, county_geom, None, 3), start=1):
        add(f"Community center {i}", "community_center",
            "public_wifi;computer_lab;digital_literacy", cc_status[i - 1], point,
            capacity_seats=int(rng.integers(20, 60)), capacity_devices=int(rng.integers(8, 25)),
            hours="Mon-Sat 09:00-20:00", wifi_radius_m=60)
    picks = schools.sample(4, random_state=int(rng.integers(1 << 31)))
    for _, school in picks.iterrows():
        add(f"Parking-lot Wi-Fi at {school['School_name']}", "school", "public_wifi", "active",
            (round(school["lat"], 6), round(school["lon"], 6)), wifi_radius_m=100,
            hours="Daily 07:00-22:00")
    sign_status = ["active", "active", "agreement_signed", "vetted", "active"]
    for i, point in enumerate(_near(rng, bg, county_geom, None, 5, sd_deg=0.006), start=1):
        add(f"Traffic-sign hotspot {i}", "hotspot", "public_wifi", sign_status[i - 1], point,
            wifi_radius_m=150, hours="24/7")
    fringe = ["48135002801", "48135002803", "48135002804", "48135003001", "48135003003",
              "48135003004"]
    for i, point in enumerate(_near(rng, bg, county_geom, fringe, 5, sd_deg=0.003), start=1):
        add(f"Wi-Fi bus stop {i}", "wifi_bus_stop", "public_wifi;hotspot_lending", "active",
            point, route="Wi-Fi Bus 1", schedule=f"{['Mon', 'Tue', 'Wed', 'Thu', 'Fri'][i - 1]} "
            "16:00-18:30", wifi_radius_m=75, capacity_hotspots=20)
    point = _near(rng, bg, county_geom, None, 1)[0]
    add("Laundromat (free Wi-Fi)", "business", "public_wifi", "inquiry", point,
        wifi_radius_m=25, hours="Daily 06:00-22:00")
    point = _near(rng, bg, county_geom, ["48135003100", "48135001600"], 1)[0]
    add("Public housing computer room", "public_housing", "computer_lab;digital_literacy",
        "vetted", point, capacity_devices=10, capacity_seats=10, hours="Mon-Fri 10:00-17:00")
    frame = pd.DataFrame(rows)
    frame.insert(0, "site_id", [f"ill-{i:03d}" for i in range(1, len(frame) + 1)])
    frame["contact"] = None
    frame["source"] = "illustrative (scripts/make_illustrative_partners.py)"
    frame["illustrative"] = True
    columns = ["site_id", "name", "site_type", "services", "capacity_seats", "capacity_devices",
               "capacity_hotspots", "hours", "wifi_radius_m", "status", "contact", "route",
               "schedule", "lat", "lon", "source", "illustrative"]
    frame = frame.reindex(columns=columns)
    for column in ("capacity_seats", "capacity_devices", "capacity_hotspots", "wifi_radius_m"):
        frame[column] = frame[column].astype("Int64")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT, index=False)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(frame)} illustrative sites")


if __name__ == "__main__":
    main()
