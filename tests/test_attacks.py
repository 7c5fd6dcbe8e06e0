"""Hostile input: zip slip, decompression bombs, script in text fields, spreadsheet formulas,
and study files that try to read or write outside their folders.

A public equity map is built from files that anyone may have touched (a partner list edited by
many hands, a zip from a mirror); these tests prove that none of them can make assetmap write
outside its folders, exhaust memory, run script in a reader's browser or a formula in a grant
writer's spreadsheet.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import assetmap as am
from assetmap._safezip import (  # internal: the zip guard itself (readers only call it inside)
    extract_zip,
    unsafe_name,
)
from assetmap.errors import ConfigError, DownloadError, SchemaError
from tests.http_fixtures import FaultServer, Reply, tiger_tract_zip
from tests.outputs_fixtures import schools_ector, scored_ector, sites_ector

BDC_HEADER = ("frn,provider_id,brand_name,location_id,technology,max_advertised_download_speed,"
              "max_advertised_upload_speed,low_latency,business_residential_code,state_usps,"
              "block_geoid,h3_res8_id\n")
BDC_ROW = "0001,130001,Cable Co,1001,40,1000,35,1,R,TX,481350001001000,8848a2d8c9fffff\n"

SLIP_NAMES = [
    "../../evil.csv",
    "/tmp/assetmap_evil_absolute.csv",
    "..\\..\\evil.csv",
    "C:\\Windows\\evil.csv",
    "data/../../evil.csv",
]

# OWASP XSS filter-evasion style payloads, plain and encoded
XSS_PAYLOADS = [
    "<script>alert('xss1')</script>",
    '<img src=x onerror=alert("xss2")>',
    '"><svg onload=alert(`xss3`)>',
    "</script><script>alert('xss4')</script>",
    "javascript:alert('xss5')",
    "' onmouseover='alert(6)' x='",
    "<iframe src=javascript:alert(7)>",
    "<body onload=alert(8)>",
    "\u003cscript\u003ealert(9)\u003c/script\u003e",
    "&lt;script&gt;alert(10)&lt;/script&gt;",
    "<a href=\"jav&#x09;ascript:alert(11)\">x</a>",
    "<details open ontoggle=alert(12)>",
]
# fragments that must never appear verbatim in an HTML output
DANGEROUS = ["<script>alert(", "<img src=x", "<svg onload", "<iframe", "<body onload",
             "<details open", 'href="javascript:', "href='javascript:", "</script><script>"]


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------- zip slip


@pytest.mark.parametrize("name", SLIP_NAMES)
def test_unsafe_member_names_are_recognised(name):
    assert unsafe_name(name)


@pytest.mark.parametrize("name", SLIP_NAMES)
def test_zip_slip_bdc_writes_nothing_outside(tmp_path, name):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    path = work / "bdc_48_slip.zip"
    path.write_bytes(_zip({"bdc_48_ok.csv": (BDC_HEADER + BDC_ROW).encode(),
                           name: (BDC_HEADER + BDC_ROW).encode()}))
    before = set(tmp_path.rglob("*"))
    with pytest.raises(SchemaError, match=r"bdc_48_slip\.zip: refusing member .*zip slip"):
        am.load_bdc(path)
    assert set(tmp_path.rglob("*")) == before
    assert not Path("/tmp/assetmap_evil_absolute.csv").exists()


def test_extract_zip_never_leaves_its_target(tmp_path):
    path = tmp_path / "x.zip"
    path.write_bytes(_zip({"ok.csv": b"a\n1\n", "../escape.csv": b"a\n2\n"}))
    with pytest.raises(SchemaError, match=r"refusing member '\.\./escape\.csv'"):
        extract_zip(path, tmp_path / "out")
    assert not (tmp_path / "escape.csv").exists()
    assert not list((tmp_path / "out").iterdir())  # checked before anything was written


def test_zip_slip_in_tiger_zip_and_download(tmp_path):
    body = tiger_tract_zip()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    members["../../tl_2020_48_tract.shp"] = b"x"
    path = tmp_path / "tl_2020_48_tract.zip"
    path.write_bytes(_zip(members))
    with pytest.raises(SchemaError, match="zip slip"):
        am.load_tracts(path=path)
    with pytest.raises(DownloadError, match="zip slip"):
        _download_tracts(path.read_bytes())
    assert not list((Path(am.settings.cache_dir) / "http").glob("*.zip"))


def _download_tracts(body: bytes) -> None:
    """Download Texas' 2020 TIGER tract zip from a local server that answers with ``body``."""
    server = FaultServer()
    try:
        server.route("/TIGER2020/TRACT/tl_2020_48_tract.zip", Reply(body=body))
        am.load_tracts(state="TX", year=2020, base_url=server.base)
    finally:
        server.close()


# --------------------------------------------------------------------------- bombs and size


def test_decompression_bomb_is_refused_before_reading(tmp_path):
    bomb = tmp_path / "bdc_48_bomb.zip"
    block = b"0" * (1 << 20)
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive, \
            archive.open("bdc_48_bomb.csv", "w", force_zip64=True) as member:
        member.write(BDC_HEADER.encode())
        for _ in range(200):  # 200 MiB of zeros, about 200 KiB compressed
            member.write(block)
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(SchemaError, match=r"bdc_48_bomb\.zip: member .* expands .*bomb"):
            am.load_bdc(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024**2  # refused from the zip directory, not by reading it


def test_bomb_summary_and_download_refused(tmp_path):
    data = b"a" * (50 * 1024**2)
    path = tmp_path / "summary.zip"
    path.write_bytes(_zip({"summary.csv": data}))
    with pytest.raises(SchemaError, match="decompression bomb"):
        am.load_bdc_summary(path)
    with pytest.raises(DownloadError, match="decompression bomb"):
        _download_tracts(path.read_bytes())


def test_max_uncompressed_bytes_setting(tmp_path, ector_dir):
    bdc = ector_dir / "fcc" / "bdc_48_illustrative_ector_fixed_availability_J25.zip"
    with am.settings.override(max_uncompressed_bytes=10_000_000), \
            pytest.raises(SchemaError, match=r"max_uncompressed_bytes \(10,000,000 bytes"):
        am.load_bdc(bdc)
    for bad in (-1, "lots", None):
        with pytest.raises(ConfigError, match="max_uncompressed_bytes"):
            am.settings.max_uncompressed_bytes = bad
    assert "max_uncompressed_bytes" in am.settings.describe()


# --------------------------------------------------------------------------- XSS


def _hostile_sites():
    sites = sites_ector(names=[f"{p} site {i}" for i, p in enumerate(XSS_PAYLOADS)])
    n = len(sites)
    sites["hours"] = [XSS_PAYLOADS[(i + 1) % n] for i in range(n)]
    sites["contact"] = [XSS_PAYLOADS[(i + 2) % n] for i in range(n)]
    sites["address"] = [XSS_PAYLOADS[(i + 3) % n] for i in range(n)]
    sites["website"] = ["javascript:alert('w')"] * n
    sites["services"] = [f"public_wifi;{XSS_PAYLOADS[(i + 4) % n]}" for i in range(n)]
    sites["status"] = "active"
    return sites


def _hostile_schools():
    schools = schools_ector().head(len(XSS_PAYLOADS)).copy()
    schools["name"] = XSS_PAYLOADS[: len(schools)]
    schools["grades"] = XSS_PAYLOADS[::-1][: len(schools)]
    return schools


def _assert_escaped(text: str, where: str) -> None:
    lowered = text.lower()
    found = [d for d in DANGEROUS if d.lower() in lowered]
    assert not found, f"{where}: unescaped {found}"


@pytest.mark.slow
def test_xss_payloads_are_escaped_in_the_map(tmp_path):
    scored = scored_ector()
    scored["NAMELSAD"] = [XSS_PAYLOADS[i % len(XSS_PAYLOADS)] for i in range(len(scored))]
    fmap = am.equity_map(scored, sites=_hostile_sites(), schools=_hostile_schools(),
                         title=XSS_PAYLOADS[0] + XSS_PAYLOADS[1], offline=False)
    path = tmp_path / "map.html"
    fmap.save(str(path))
    _assert_escaped(path.read_text("utf-8"), "equity_map")


def test_xss_payloads_are_escaped_in_the_report(tmp_path):
    scored = scored_ector()
    scored["NAMELSAD"] = [XSS_PAYLOADS[i % len(XSS_PAYLOADS)] for i in range(len(scored))]
    for suffix in ("html", "md"):
        out = am.write_report(scored, tmp_path / f"report.{suffix}", sites=_hostile_sites(),
                              title=" ".join(XSS_PAYLOADS[:3]))
        text = Path(out).read_text("utf-8")
        if suffix == "html":
            _assert_escaped(text, "write_report html")
        else:
            assert "<script>" not in text
            assert "<img src=x" not in text


# --------------------------------------------------------------------------- CSV formulas

FORMULAS = ["=HYPERLINK(\"http://x\",\"click\")", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_csv_exports_neutralise_formulas(tmp_path):
    sites = sites_ector(names=FORMULAS)
    sites["hours"] = FORMULAS
    written = am.export_layers({"sites": sites, "table": pd.DataFrame({"=name": FORMULAS,
                                                                       "ok": [-0.5] * 6})},
                               tmp_path, formats=["csv"])
    for files in written.values():
        path = next(p for p in files if p.suffix == ".csv")
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        for row in rows:
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (path.name, cell)
                if cell.startswith("-"):
                    float(cell)  # only real numbers may start with '-'
    text = (tmp_path / "table.csv").read_text("utf-8")
    assert "'=name" in text
    assert "-0.5" in text


def test_partner_registry_written_back_neutralised(tmp_path):
    sites = am.read_partner_sites(am_data("partners", "ector_partner_sites_illustrative.csv"))
    sites = sites.head(len(FORMULAS)).copy()
    sites["name"] = FORMULAS
    out = am.write_partner_sites(sites, tmp_path / "partners.csv")
    with Path(out).open(newline="", encoding="utf-8") as handle:
        names = [r["name"] for r in csv.DictReader(handle)]
    assert all(n.startswith("'") for n in names)


def am_data(*parts: str) -> Path:
    from assetmap.datasets import data_path

    return data_path(*parts)


# --------------------------------------------------------------------------- study file paths


def test_study_outputs_confined_and_sources_only_read(tmp_path):
    from assetmap.outputs.study_exports import (  # internal: path guards, no study run needed
        inside,
        safe_stem,
    )

    outside = tmp_path / "victim.csv"
    outside.write_text("keep me\n")
    study_dir = tmp_path / "study"
    study_dir.mkdir()
    (study_dir / "study.toml").write_text(
        '[study]\nname = "../../victim"\ntitle = "<script>alert(1)</script>"\n'
        '[area]\nstate = "TX"\ncounties = ["Ector"]\n'
        f'[sources]\npartners = "{outside.as_posix()}"\n'
        '[outputs]\ndir = "out"\n', encoding="utf-8")
    study = am.Study.from_toml(study_dir / "study.toml")
    stem = safe_stem(study.config.study["name"])
    target = inside(study.config.out_dir, f"{stem}_report.html")
    assert target.parent == (study_dir / "out").resolve()
    with pytest.raises(ConfigError, match="outside the output folder"):
        inside(study.config.out_dir, "../escape.html")
    # a source path is resolved and only ever read: it is hashed into the manifest, not written
    assert study.config.sources["partners"] == str(outside)
    assert outside.read_text() == "keep me\n"
