"""Property-based fuzzing of every reader with damaged copies of a valid real-format file.

Each reader gets a small valid file in its real format (cut from the shipped Ector County data
or the published schema); hypothesis truncates it at a random offset, flips random bytes, or
shuffles and renames its columns. The only outcomes allowed:

* a result whose report accounts for every row read (never silently shorter), or
* an :class:`~assetmap.errors.AssetmapError` whose message names the file.

Any other exception, a warning that is neither an assetmap warning nor GDAL's own diagnostic
(pytest turns it into an error), or a hang (an alarm after ``HANG_SECONDS``, plus hypothesis'
per-example deadline) fails. The examples are derandomised, so CI runs the same cases every
time; the budget is 15 examples per reader and mutation (the module runs in about a minute).
"""

from __future__ import annotations

import contextlib
import csv
import io
import signal
import subprocess
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

import assetmap as am
from assetmap.datasets import data_path
from assetmap.errors import AssetmapError, AssetmapWarning

pytestmark = pytest.mark.slow

HANG_SECONDS = 30
FUZZ = settings(max_examples=15, deadline=10_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _head(path: Path, lines: int) -> bytes:
    with path.open("rb") as handle:
        return b"".join(handle.readline() for _ in range(lines + 1))


def _bdc_csv() -> bytes:
    archive_path = data_path("fcc", "bdc_48_illustrative_ector_fixed_availability_J25.zip")
    with zipfile.ZipFile(archive_path) as archive, archive.open(archive.namelist()[0]) as member:
        return b"".join(member.readline() for _ in range(31))


def _zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def _tracts() -> gpd.GeoDataFrame:
    return gpd.read_file(data_path("boundaries", "ector_tracts_2020.geojson"))


def _geojson(frame: gpd.GeoDataFrame) -> bytes:
    return frame.to_json().encode("utf-8")


def _accounted(report: dict) -> bool:
    rejected = sum(report["rejected"].values())
    if "rows_aggregated" in report:  # the survey: households in, areas out
        return report["rows_aggregated"] + rejected == report["rows_read"]
    if report["kind"] == "bdc_summary":  # one row per speed tier out
        filtered = sum(report.get("filtered", {}).values())
        return report["rows_out"] == 6 * (report["rows_read"] - rejected - filtered)
    filtered = sum(report.get("filtered", {}).values())
    return (report["rows_read"]
            == report["rows_out"] + rejected + filtered + report.get("merged", 0))


@dataclass(frozen=True)
class Reader:
    name: str
    file_name: str
    valid: Callable[[], bytes]
    read: Callable[[Path], object]
    tabular: bool = True  # columns can be shuffled and renamed


def _read_bdc(path: Path):
    return am.load_bdc(path, codes=None)


def _read_summary(path: Path):
    return am.load_bdc_summary(path)


def _read_tracts(path: Path):
    return am.load_tracts(path=path)


def _read_acs(path: Path):
    return am.read_acs_csv(path)


def _read_schools(path: Path):
    return am.read_schools(path)


def _read_zones(path: Path):
    return am.read_attendance_zones(path)


def _read_partners(path: Path):
    return am.read_partner_sites(path)


_AREAS: list[gpd.GeoDataFrame] = []


def _read_survey(path: Path):
    if not _AREAS:
        _AREAS.append(_tracts())
    return am.read_survey(path, areas=_AREAS[0])


def _read_speedtests(path: Path):
    return am.read_speedtests(path)


def _read_ruca(path: Path):
    from assetmap.loaders.rurality import read_ruca  # internal: the RUCA reader is not in am

    return read_ruca(path)


def _read_study(path: Path):
    return am.Study.from_toml(path)


def _study_file() -> bytes:
    """The commented study file that ``assetmap init`` writes (the CLI, in a subprocess)."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "study.toml"
        subprocess.run([sys.executable, "-m", "assetmap", "init", "--offline", "--state", "TX",
                        "--county", "Ector", "--district", "4818000", "--out", str(out)],
                       check=True, capture_output=True, timeout=120)
        return out.read_bytes()


def _zones_file() -> bytes:
    frame = gpd.GeoDataFrame({"ncessch": ["481800000001", "481800000002"],
                              "schnam": ["A EL", "B EL"]},
                             geometry=[box(-102.40, 31.80, -102.35, 31.85),
                                       box(-102.35, 31.80, -102.30, 31.85)], crs=4326)
    return _geojson(frame)


READERS = [
    Reader("bdc", "bdc_48_fuzz.csv", _bdc_csv, _read_bdc),
    Reader("bdc_zip", "bdc_48_fuzz.zip", lambda: _zip_of("bdc_48_fuzz.csv", _bdc_csv()),
           _read_bdc, tabular=False),
    Reader("bdc_summary", "summary.csv",
           lambda: _head(data_path("fcc", "fcc_bdc_J25_fixed_summary_by_place_ector_area.csv"),
                         30), _read_summary),
    Reader("tiger", "tracts.geojson", lambda: _geojson(_tracts().head(3)), _read_tracts,
           tabular=False),
    Reader("acs_csv", "acs.csv",
           lambda: _head(data_path("acs", "acs_b19001_tracts_ector_midland_andrews.csv"), 20),
           _read_acs),
    Reader("schools", "schools.csv",
           lambda: _head(data_path("schools", "tea_schools_2023_24_ector_midland_andrews.csv"),
                         20), _read_schools),
    Reader("zones", "zones.geojson", _zones_file, _read_zones, tabular=False),
    Reader("partners", "partners.csv",
           lambda: data_path("partners", "ector_partner_sites_illustrative.csv").read_bytes(),
           _read_partners),
    Reader("survey", "survey.csv",
           lambda: _head(data_path("survey", "ector_family_survey_illustrative.csv"), 60),
           _read_survey),
    Reader("speedtests", "tests.csv",
           lambda: _head(data_path("speedtests", "ector_speedtests_illustrative.csv"), 60),
           _read_speedtests),
    Reader("ruca", "ruca.csv",
           lambda: _head(data_path("rural", "usda_ruca_2020_tracts2020.csv"), 20), _read_ruca),
    Reader("study", "study.toml",
           _study_file, _read_study, tabular=False),
]
_VALID: dict[str, bytes] = {}


def valid_bytes(reader: Reader) -> bytes:
    if reader.name not in _VALID:
        _VALID[reader.name] = reader.valid()
    return _VALID[reader.name]


# --------------------------------------------------------------------------- mutations


@st.composite
def truncated(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, max(len(data) - 1, 0)))]


@st.composite
def flipped(draw, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(out) - 1))
        out[position] = draw(st.integers(0, 255))
    return bytes(out)


@st.composite
def reshaped(draw, data: bytes) -> bytes:
    """Shuffle the columns of a CSV and rename some of them."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    width = len(rows[0])
    order = draw(st.permutations(range(width)))
    header = [rows[0][i] for i in order]
    for _ in range(draw(st.integers(0, 2))):
        header[draw(st.integers(0, width - 1))] = draw(
            st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                    min_size=0, max_size=12))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows[1:]:
        writer.writerow([row[i] if i < len(row) else "" for i in order])
    return buffer.getvalue().encode("utf-8")


@contextlib.contextmanager
def no_hang(seconds: int) -> Iterator[None]:
    def alarm(signum, frame):
        raise TimeoutError(f"the reader ran for more than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_outcome(reader: Reader, folder: Path, data: bytes) -> None:
    path = folder / reader.file_name
    path.write_bytes(data)
    with no_hang(HANG_SECONDS), warnings.catch_warnings():
        warnings.simplefilter("ignore", AssetmapWarning)
        # GDAL's own diagnostics on a damaged GeoJSON ("Feature gets NULL geometry assigned");
        # the feature then reaches the reader without geometry and is rejected and counted
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyogrio")
        try:
            result = reader.read(path)
        except AssetmapError as exc:
            message = str(exc)
            result = None
        else:
            message = None
    if message is not None:
        assert reader.file_name in message, f"the error does not name the file: {message}"
        return
    if reader.name == "study":
        return  # a study file is configuration: a parsed study is a valid result
    report = am.get_report(result)
    assert report["rows_out"] == len(result)
    assert _accounted(report), f"rows lost without being counted: {report}"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_valid_file_is_read_and_accounted(reader: Reader, fuzz_dir: Path) -> None:
    check_outcome(reader, fuzz_dir, valid_bytes(reader))


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_truncated_files(reader: Reader, fuzz_dir: Path) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check_outcome(reader, fuzz_dir, data.draw(truncated(valid_bytes(reader))))

    run()


@pytest.mark.parametrize("reader", READERS, ids=[r.name for r in READERS])
def test_byte_flips(reader: Reader, fuzz_dir: Path) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check_outcome(reader, fuzz_dir, data.draw(flipped(valid_bytes(reader))))

    run()


TABULAR = [r for r in READERS if r.tabular]


@pytest.mark.parametrize("reader", TABULAR, ids=[r.name for r in TABULAR])
def test_shuffled_and_renamed_columns(reader: Reader, fuzz_dir: Path) -> None:
    @FUZZ
    @given(st.data())
    def run(data: st.DataObject) -> None:
        check_outcome(reader, fuzz_dir, data.draw(reshaped(valid_bytes(reader))))

    run()
