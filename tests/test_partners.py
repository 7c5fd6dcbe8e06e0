"""The partner-site registry: reading, vocabulary, bad input, writing, anchor sites."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, box

import assetmap as am
from assetmap.errors import RejectedRowsWarning, RepairWarning, SchemaError

# the registry's columns, in order (docs/data-model.md: one svc_<code> column per service)
PARTNER_COLUMNS = [
    "site_id", "name", "site_type", "services", "svc_public_wifi", "svc_device_lending",
    "svc_hotspot_lending", "svc_computer_lab", "svc_tutoring", "svc_child_care",
    "svc_digital_literacy", "svc_device_repair", "capacity_seats", "capacity_devices",
    "capacity_hotspots", "hours", "wifi_radius_m", "status", "contact", "address", "route",
    "schedule", "source", "illustrative", "geometry",
]

AREA = box(-102.8, 31.6, -102.2, 32.1)  # around Ector County


def _balanced(sites):
    r = am.get_report(sites)
    return r["rows_read"] == r["rows_out"] + sum(r["rejected"].values())


def test_synonyms_and_case_are_normalised(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "Organization,CATEGORY,Services Offered,Partnership Status,Seats,Latitude,Longitude\n"
        "Grace Church,Church,\"Wi-Fi, Homework Help\",MOU signed,25,31.85,-102.37\n"
        "Eastside Rec,Rec Center,wifi;Computer Lab;computer classes,ACTIVE,,31.86,-102.35\n"
        "Corner Sign,Traffic sign hotspot,WIFI,Enquiry,,31.87,-102.33\n"
    )
    sites = am.read_partner_sites(path)
    assert list(sites.columns) == PARTNER_COLUMNS
    assert sites["site_type"].tolist() == ["place_of_worship", "community_center", "hotspot"]
    assert sites["services"].tolist() == [
        "public_wifi;tutoring", "public_wifi;computer_lab;digital_literacy", "public_wifi"]
    assert sites["status"].tolist() == ["agreement_signed", "active", "inquiry"]
    assert sites["svc_tutoring"].tolist() == [True, False, False]
    assert sites["capacity_seats"].iloc[0] == 25.0
    assert sites["illustrative"].eq(False).all()
    assert sites["site_id"].is_unique
    assert _balanced(sites)


def test_unknown_value_lists_allowed_values(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("name,type,status,lat,lon\nA,library,active,31.8,-102.3\n"
                    "B,spaceship,active,31.8,-102.3\n")
    with pytest.raises(SchemaError, match=r"sites.csv, row 2, column 'site_type'.*spaceship.*"
                                          r"allowed: library, school, place_of_worship"):
        am.read_partner_sites(path)
    path.write_text("name,type,status,lat,lon\nA,library,maybe,31.8,-102.3\n")
    with pytest.raises(SchemaError, match=r"row 1, column 'status'.*inquiry, vetted"):
        am.read_partner_sites(path)
    path.write_text("name,type,services,lat,lon\nA,library,wifi;teleport,31.8,-102.3\n")
    with pytest.raises(SchemaError, match=r"row 1, column 'services'.*'teleport'"):
        am.read_partner_sites(path)
    path.write_text("name,type,seats,lat,lon\nA,library,many,31.8,-102.3\n")
    with pytest.raises(SchemaError, match=r"row 1, column 'capacity_seats'.*'many'"):
        am.read_partner_sites(path)


def test_xlsx_header_on_row_3_and_excel_times_and_dates(tmp_path):
    path = tmp_path / "partners.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Ector County ISD partner registry"])
    sheet.append([])
    sheet.append(["Site Name", "Type", "Hours", "Latitude", "Longitude"])
    sheet.append(["Library", "public library", "Mon-Fri 9-5", 31.847, -102.372])
    sheet.append(["Rec center", "community center", dt.time(9, 30), 31.86, -102.35])
    sheet.append(["Church", "church", dt.datetime(2024, 9, 5), 31.87, -102.33])
    book.save(path)
    with pytest.warns(RepairWarning) as record:
        sites = am.read_partner_sites(path)
    messages = " | ".join(str(w.message) for w in record)
    assert "header is on row 3" in messages
    assert "Excel time cell" in messages
    assert "Excel date" in messages
    assert sites["hours"].tolist() == ["Mon-Fri 9-5", "09:30", None]
    assert len(sites) == 3
    repaired = am.get_report(sites)["repaired"]
    assert sum(repaired.values()) == 2


def test_geojson_registry(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["Ector County Library"], "site_type": ["library"], "services": ["wifi"]},
        geometry=[Point(-102.3718978, 31.8471217)], crs=4326)
    path = tmp_path / "sites.geojson"
    frame.to_file(path)
    sites = am.read_partner_sites(path)
    assert sites.geometry.iloc[0].equals(Point(-102.3718978, 31.8471217))
    assert sites["services"].tolist() == ["public_wifi"]


def test_duplicates_within_50_m_and_empty_names(tmp_path):
    path = tmp_path / "sites.csv"
    # 0.0003 deg latitude ~ 33 m; 0.002 deg ~ 222 m
    path.write_text(
        "name,type,lat,lon\n"
        "Grace Church,church,31.8500,-102.37\n"
        "GRACE  church,church,31.8503,-102.37\n"
        "Grace Church,church,31.8520,-102.37\n"
        ",library,31.86,-102.36\n"
    )
    with pytest.warns(RejectedRowsWarning) as record:
        sites = am.read_partner_sites(path)
    assert len(record) == 2
    assert len(sites) == 2
    report = am.get_report(sites)
    assert report["rejected_rows"]["empty site name"] == [4]
    reason = "duplicate site (same name within 50 m of an earlier row)"
    assert report["rejected_rows"][reason] == [2]
    assert _balanced(sites)


def test_swapped_outside_and_missing_coordinates(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,type,address,lat,lon\n"
        "A,library,,31.85,-102.37\n"
        "B,library,,-102.36,31.86\n"
        "C,library,,32.5,-101.0\n"
        "D,library,1 Main St,,\n"
        "E,library,,,\n"
    )
    with pytest.warns(RepairWarning, match="swapped"), \
            pytest.warns(RejectedRowsWarning) as record:
        sites = am.read_partner_sites(path, area=AREA)
    assert sites["name"].tolist() == ["A", "B"]
    assert (sites.geometry.iloc[1].x, sites.geometry.iloc[1].y) == (-102.36, 31.86)
    report = am.get_report(sites)
    assert report["rejected_rows"] == {
        "no coordinates (address not geocoded: pass geocode=True)": [4],
        "no coordinates and no address": [5],
        "outside the study area": [3],
    }
    assert sum(issubclass(w.category, RejectedRowsWarning) for w in record) == 3
    assert _balanced(sites)


def test_wifi_bus_stops_and_hotspot_radius(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,type,route,schedule,wifi radius (m),lat,lon\n"
        "Stop 1,Wi-Fi bus,Bus 1,Mon 16:00-18:00,75,31.85,-102.45\n"
        "Stop 2,wifi bus stop,Bus 1,Tue 16:00-18:00,75,31.86,-102.47\n"
        "Sign 1,hotspot,,,150,31.87,-102.33\n"
    )
    sites = am.read_partner_sites(path)
    stops = sites[sites["site_type"] == "wifi_bus_stop"]
    assert stops["route"].tolist() == ["Bus 1", "Bus 1"]
    assert stops["schedule"].tolist() == ["Mon 16:00-18:00", "Tue 16:00-18:00"]
    assert sites["wifi_radius_m"].tolist() == [75.0, 75.0, 150.0]
    path.write_text("name,type,lat,lon\nStop 1,wifi bus,31.85,-102.45\n")
    with pytest.raises(SchemaError, match=r"row 1, column 'route'.*wifi_bus_stop needs"):
        am.read_partner_sites(path)


def test_write_neutralises_formulas_and_round_trips(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text(
        "name,type,services,contact,lat,lon\n"
        "=HYPERLINK(\"http://x\"),library,wifi,@admin,31.85,-102.37\n"
        "Rec,community center,wifi;tutoring,+1 432 555 0100,31.86,-102.35\n"
    )
    sites = am.read_partner_sites(path)
    out = am.write_partner_sites(sites, tmp_path / "out.csv")
    raw = pd.read_csv(out, dtype=str)
    assert raw["name"].iloc[0] == "'=HYPERLINK(\"http://x\")"
    assert raw["contact"].tolist() == ["'@admin", "'+1 432 555 0100"]
    assert raw["lon"].iloc[0] == "-102.37"  # numbers are not touched
    again = am.read_partner_sites(out)
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.drop(columns="geometry")), pd.DataFrame(sites.drop(columns="geometry")),
        check_dtype=False)
    geo = am.read_partner_sites(am.write_partner_sites(sites, tmp_path / "out.geojson"))
    assert geo["site_id"].tolist() == sites["site_id"].tolist()


def test_illustrative_registry_is_labelled_and_inside_ector(ector_dir):
    county = gpd.read_file(ector_dir / "boundaries" / "ector_county_2020.geojson")
    sites = am.read_partner_sites(ector_dir / "partners" / "ector_partner_sites_illustrative.csv",
                                  area=county)
    raw = pd.read_csv(ector_dir / "partners" / "ector_partner_sites_illustrative.csv")
    assert len(sites) == len(raw)
    assert sites["illustrative"].all()
    assert am.get_report(sites)["illustrative"] is True
    assert set(sites["status"]) == {"inquiry", "vetted", "agreement_signed", "active", "ended"}
    assert {"place_of_worship", "community_center", "school", "hotspot",
            "wifi_bus_stop"} <= set(sites["site_type"])


def test_anchor_sites_are_real_with_honest_services(ector_dir):
    path = ector_dir / "sites" / "anchor_sites_fqhc_shelter_hospital_library_permian.csv"
    sites = am.anchor_sites_as_partners(path, county="48135")
    raw = pd.read_csv(path, dtype=str)
    assert len(sites) == int((raw["county_fips"] == "48135").sum()) == 11
    assert not sites["illustrative"].any()
    library = sites[sites["site_type"] == "library"]
    assert library["name"].tolist() == ["ECTOR COUNTY LIBRARY"]
    assert library["services"].tolist() == ["public_wifi;computer_lab"]
    assert (sites.loc[sites["site_type"] != "library", "services"] == "").all()
    assert sites["status"].isna().all()
    # Midland's library reports wifi_sessions=-1 (not reported): no Wi-Fi is claimed
    midland = am.anchor_sites_as_partners(path, county="48329")
    assert midland.loc[midland["site_type"] == "library", "services"].tolist() == ["computer_lab"]
    assert sites["address"].str.endswith(", TX").all()  # the state from county_fips


def test_anchor_sites_need_their_file_and_keep_every_county_by_default(ector_dir, tmp_path):
    path = ector_dir / "sites" / "anchor_sites_fqhc_shelter_hospital_library_permian.csv"
    with pytest.raises(TypeError, match="path"):
        am.anchor_sites_as_partners()  # no shipped file is read by default
    every = am.anchor_sites_as_partners(path)
    assert len(every) == len(pd.read_csv(path)) > 11
    bad = tmp_path / "anchors.csv"
    bad.write_text("name,lat,lon\nA,31.8,-102.3\n")
    with pytest.raises(SchemaError, match=r"missing columns \['site_type'"):
        am.anchor_sites_as_partners(bad)
