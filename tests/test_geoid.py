import warnings

import pandas as pd
import pytest

import assetmap as am
from assetmap.errors import GeoidError
from assetmap.geoid import (  # internal: GEOID helpers and the warning class am does not list
    GeoidRepairWarning,
    geoid_level,
    state_usps,
    tract_of,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [("TX", "48"), ("tx", "48"), ("Texas", "48"), (48, "48"), ("48", "48"), (6, "06"),
     ("Alabama", "01"), ("1", "01"), ("District of Columbia", "11"), ("PR", "72")],
)
def test_state_fips(given, expected):
    assert am.state_fips(given) == expected


def test_state_unknown_names_value():
    with pytest.raises(GeoidError, match="Texass"):
        am.state_fips("Texass")


@pytest.mark.parametrize(
    ("state", "county", "expected"),
    [("TX", "Ector", "48135"), ("Texas", "Ector County", "48135"), ("48", 135, "48135"),
     ("TX", "48135", "48135"), ("LA", "Orleans Parish", "22071"), ("LA", "orleans", "22071"),
     ("AK", "Anchorage", "02020"), ("AL", "1001", "01001"), ("MO", "St. Louis", "29189")],
)
def test_county_fips(state, county, expected):
    assert am.county_fips(state, county) == expected


def test_county_unknown_suggests_close_names():
    with pytest.raises(GeoidError, match="Ectr"):
        am.county_fips("TX", "Ectr")
    with pytest.raises(GeoidError, match="not a county of state 48"):
        am.county_fips("TX", "06001")


def test_state_usps():
    assert state_usps(48) == "TX"


def test_normalize_keeps_good_strings_untouched():
    values = pd.Series(["48135000100", "01001020100"], index=[5, 9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = am.normalize_geoids(values, level="tract")
    assert out.tolist() == ["48135000100", "01001020100"]
    assert list(out.index) == [5, 9]


def test_normalize_repairs_lost_leading_zero_with_a_counted_warning():
    values = pd.Series([1001020100, "1001020200", 48135000100, 1001020300.0], dtype=object)
    with pytest.warns(GeoidRepairWarning, match="3 of 4 tract GEOIDs"):
        out = am.normalize_geoids(values, level="tract", source="x.csv", column="GEOID")
    assert out.tolist() == ["01001020100", "01001020200", "48135000100", "01001020300"]


def test_normalize_rejects_scientific_notation_naming_row_and_column():
    values = pd.Series(["48135000100", "4.81350E+10"])
    with pytest.raises(GeoidError, match=r"x\.csv, row 2, column 'GEOID'.*scientific"):
        am.normalize_geoids(values, level="tract", source="x.csv", column="GEOID")


@pytest.mark.parametrize("bad", ["481350001000", "48135A00100", None, "", "99135000100"])
def test_normalize_rejects_malformed_values_naming_the_row(bad):
    with pytest.raises(GeoidError, match="row 2"):
        am.normalize_geoids(pd.Series(["48135000100", bad]), level="tract")


def test_one_digit_short_is_padded_only_to_a_real_state():
    with pytest.warns(GeoidRepairWarning):
        assert am.normalize_geoids(["4013000100"], level="tract").tolist() == ["04013000100"]
    # "0" + "7..." would be state 07, which does not exist
    with pytest.raises(GeoidError, match="not a state FIPS"):
        am.normalize_geoids(["7013000100"], level="tract")


def test_block_group_and_block_levels():
    with pytest.warns(GeoidRepairWarning):
        assert am.normalize_geoids([11001000100], level="block_group").tolist() == [
            "011001000100"]
    assert geoid_level("481350001001000") == "block"
    assert tract_of("481350001001000") == "48135000100"
    with pytest.raises(GeoidError):
        geoid_level("123")
    with pytest.raises(GeoidError):
        tract_of("4813")


def test_bad_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of"):
        am.normalize_geoids(["48"], level="zip")  # type: ignore[arg-type]
