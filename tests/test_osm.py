"""Partner candidates from OpenStreetMap via a local server answering Overpass JSON."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import box
from werkzeug.wrappers import Request, Response

import assetmap as am
from assetmap.errors import DownloadError

# the registry's columns, in order (docs/data-model.md: one svc_<code> column per service)
PARTNER_COLUMNS = [
    "site_id", "name", "site_type", "services", "svc_public_wifi", "svc_device_lending",
    "svc_hotspot_lending", "svc_computer_lab", "svc_tutoring", "svc_child_care",
    "svc_digital_literacy", "svc_device_repair", "capacity_seats", "capacity_devices",
    "capacity_hotspots", "hours", "wifi_radius_m", "status", "contact", "address", "route",
    "schedule", "source", "illustrative", "geometry",
]

PATH = "/api/interpreter"
# A recorded answer in Overpass JSON's shape for `out center tags;`: nodes carry lat/lon,
# ways and relations carry a center.
RECORDED = {
    "version": 0.6,
    "generator": "Overpass API 0.7.62.1 084b4234",
    "osm3s": {"timestamp_osm_base": "2024-05-01T12:00:00Z",
              "copyright": "The data included in this document is from www.openstreetmap.org. "
                           "The data is made available under ODbL."},
    "elements": [
        {"type": "node", "id": 358841239, "lat": 31.8471217, "lon": -102.3718978,
         "tags": {"amenity": "library", "name": "Ector County Library",
                  "internet_access": "wlan", "addr:housenumber": "321",
                  "addr:street": "West 5th Street", "addr:city": "Odessa",
                  "opening_hours": "Mo-Th 09:00-20:00"}},
        {"type": "way", "id": 140234411, "center": {"lat": 31.8612, "lon": -102.3655},
         "tags": {"amenity": "place_of_worship", "religion": "christian",
                  "name": "First Baptist Church"}},
        {"type": "way", "id": 140234999, "center": {"lat": 31.862, "lon": -102.366},
         "tags": {"amenity": "place_of_worship"}},
        {"type": "relation", "id": 9100, "center": {"lat": 31.87, "lon": -102.34},
         "tags": {"amenity": "community_centre", "name": "Northside Community Center",
                  "internet_access": "terminal"}},
        {"type": "node", "id": 77, "lat": 32.5, "lon": -101.0,
         "tags": {"amenity": "library", "name": "Far Library"}},
    ],
}


def test_overpass_answer_becomes_partner_sites(httpserver):
    queries = []

    def handle(request: Request) -> Response:
        queries.append(request.form["data"])
        return Response(json.dumps(RECORDED), content_type="application/json")

    httpserver.expect_request(PATH, method="POST").respond_with_handler(handle)
    sites = am.partner_sites_from_osm(area=box(-102.8, 31.6, -102.2, 32.1),
                                      url=httpserver.url_for(PATH))
    assert list(sites.columns) == PARTNER_COLUMNS
    assert sites["site_id"].tolist() == ["osm:node/358841239", "osm:way/140234411",
                                         "osm:relation/9100"]
    assert sites["site_type"].tolist() == ["library", "place_of_worship", "community_center"]
    assert sites["services"].tolist() == ["public_wifi", "", "computer_lab"]
    assert sites["svc_public_wifi"].tolist() == [True, False, False]
    assert sites.geometry.iloc[1].coords[0] == (-102.3655, 31.8612)
    assert sites["address"].iloc[0] == "321 West 5th Street, Odessa"
    assert sites["hours"].iloc[0] == "Mo-Th 09:00-20:00"
    assert sites["status"].isna().all()
    report = am.get_report(sites)
    assert report["rejected"] == {"no name in OpenStreetMap": 1, "outside the study area": 1}
    assert report["rows_read"] == report["rows_out"] + sum(report["rejected"].values())
    assert report["sources"][0]["license"] == "ODbL 1.0"
    assert report["vintages"]["osm_sites"] == "OpenStreetMap 2024-05-01T12:00:00Z"
    assert "out center" in queries[0]
    assert "(31.6,-102.8,32.1,-102.2)" in queries[0]


def test_answer_without_elements_is_a_download_error(httpserver):
    httpserver.expect_request(PATH, method="POST").respond_with_json({"remark": "timeout"})
    with pytest.raises(DownloadError, match="not Overpass JSON"):
        am.partner_sites_from_osm(bbox=(-102.8, 31.6, -102.2, 32.1), url=httpserver.url_for(PATH))


def test_area_or_bbox_is_required():
    with pytest.raises(ValueError, match="area= or bbox="):
        am.partner_sites_from_osm()
