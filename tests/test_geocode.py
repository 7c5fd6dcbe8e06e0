"""The Census Bureau batch geocoder, against a local server answering in its real format."""

from __future__ import annotations

import pandas as pd
import pytest
from werkzeug.wrappers import Request, Response

import assetmap as am
from assetmap.errors import DownloadError, RejectedRowsWarning, RepairWarning

PATH = "/geocoder/locations/addressbatch"
# The shape of a real answer: no header, quoted fields, any order, short No_Match rows.
KNOWN = {
    "321 W 5th St": '"{id}","321 W 5th St, Odessa, TX, 79761","Match","Exact",'
                    '"321 W 5TH ST, ODESSA, TX, 79761","-102.371897,31.847121","22631122","L"',
    "840 W Clements St": '"{id}","840 W Clements St, Odessa, TX, ","Match","Non_Exact",'
                         '"840 W CLEMENTS ST, ODESSA, TX, 79763","-102.372007,31.83271",'
                         '"22633810","R"',
}


def _handler(seen: list):
    def handle(request: Request) -> Response:
        assert request.method == "POST"
        assert request.form["benchmark"] == "Public_AR_Current"
        upload = request.files["addressFile"].read().decode()
        seen.append(upload)
        lines = []
        for row in pd.read_csv(pd.io.common.StringIO(upload), header=None, dtype=str,
                               keep_default_na=False).itertuples(index=False):
            rid, street = row[0], row[1]
            template = KNOWN.get(street)
            if template:
                lines.append(template.format(id=rid))
            else:
                lines.append(f'"{rid}","{street}, {row[2]}, {row[3]}, {row[4]}","No_Match"')
        return Response("\n".join(reversed(lines)) + "\n", content_type="text/plain")
    return handle


def test_geocode_addresses_parses_the_real_format(httpserver):
    seen: list[str] = []
    httpserver.expect_request(PATH, method="POST").respond_with_handler(_handler(seen))
    frame = pd.DataFrame({"address": ["321 W 5th St", "1 Nowhere Rd", "", "840 W Clements St"],
                          "city": ["Odessa"] * 4, "state": ["TX"] * 4,
                          "zip": ["79761", "", "", ""]},
                         index=[10, 11, 12, 13])
    out = am.geocode_addresses(frame, url=httpserver.url_for(PATH))
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out["geocode_match"].tolist() == ["Match", "No_Match", "No_Match", "Match"]
    assert out.loc[10, ["geocode_lon", "geocode_lat"]].tolist() == [-102.371897, 31.847121]
    assert out.loc[13, "geocode_match_type"] == "Non_Exact"
    assert out.loc[[11, 12], "geocode_lat"].isna().all()
    # the upload has no header and leaves out the empty street
    assert seen[0].splitlines() == ["0,321 W 5th St,Odessa,TX,79761", "1,1 Nowhere Rd,Odessa,TX,",
                                    "3,840 W Clements St,Odessa,TX,"]
    assert frame["address"].iloc[2] == ""  # input not changed


def test_partner_sites_geocoded_and_unmatched_counted(httpserver, tmp_path):
    httpserver.expect_request(PATH, method="POST").respond_with_handler(_handler([]))
    path = tmp_path / "sites.csv"
    path.write_text("name,type,address,city,state,lat,lon\n"
                    "Library,library,321 W 5th St,Odessa,TX,,\n"
                    "Nowhere,church,1 Nowhere Rd,Odessa,TX,,\n"
                    "Rec,community center,,,,31.86,-102.35\n")
    with pytest.warns(RepairWarning, match="geocoded"), \
            pytest.warns(RejectedRowsWarning, match="not matched by the geocoder"):
        sites = am.read_partner_sites(path, geocode=True, geocode_url=httpserver.url_for(PATH))
    assert sites["name"].tolist() == ["Library", "Rec"]
    assert sites.geometry.iloc[0].x == -102.371897
    report = am.get_report(sites)
    assert report["rejected_rows"] == {"address not matched by the geocoder": [2]}
    assert report["repaired"]["geocoded from the address (Census Bureau geocoder)"] == 1


def test_geocoder_error_page_is_a_download_error(httpserver):
    httpserver.expect_request(PATH, method="POST").respond_with_data(
        "<html>Service unavailable</html>", status=400, content_type="text/html")
    with pytest.raises(DownloadError):
        am.geocode_addresses(pd.DataFrame({"address": ["1 Main St"]}),
                             url=httpserver.url_for(PATH))


def test_survey_addresses_geocoded_and_not_cached(httpserver, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    httpserver.expect_request(PATH, method="POST").respond_with_handler(_handler([]))
    areas = gpd.GeoDataFrame({"GEOID": ["48135003100"]},
                             geometry=[box(-102.4, 31.8, -102.3, 31.9)], crs=4326)
    path = tmp_path / "survey.csv"
    rows = ["address,city,state,internet"] + ["321 W 5th St,Odessa,TX,none"] * 6 + [
        "840 W Clements St,Odessa,TX,yes"] * 5 + ["1 Nowhere Rd,Odessa,TX,yes"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.warns(RejectedRowsWarning, match="not matched"):
        out = am.read_survey(path, areas=areas, geocode=True, geocode_url=httpserver.url_for(PATH),
                             min_cell=5)
    assert out[["responses", "home_none"]].values.tolist() == [[11, 6]]
    cached = [p for p in am.settings.cache_dir.rglob("*") if p.is_file()]
    assert not any("321 W 5th St" in p.read_text(errors="ignore") for p in cached)
    assert "321 W 5th St" not in str(out.attrs)
