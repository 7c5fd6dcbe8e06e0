"""``load_releases``: BDC releases and the other sources loaded side by side."""

from __future__ import annotations

import pytest

from assetmap.bdc.read import load_bdc
from assetmap.bdc.service import service_by_area
from assetmap.datasets import ILLUSTRATIVE_BDC, ILLUSTRATIVE_BDC_PREVIOUS, data_path
from assetmap.pipeline.sources import load_releases


def test_both_releases_equal_loading_them_one_after_the_other():
    found, other = load_releases(data_path(*ILLUSTRATIVE_BDC),
                                 data_path(*ILLUSTRATIVE_BDC_PREVIOUS), meanwhile=lambda: 42)
    assert other == 42
    old = load_bdc(data_path(*ILLUSTRATIVE_BDC_PREVIOUS))
    assert found["previous_availability"].equals(old)
    assert found["previous_service"].equals(service_by_area(old, level="tract"))
    assert found["service"].equals(service_by_area(found["locations"], level="tract"))
    assert len(found["locations"]) == found["availability"]["location_id"].nunique()


def test_without_files_only_the_other_sources_load():
    found, other = load_releases([], [], meanwhile=lambda: "others")
    assert other == "others"
    assert set(found) == {"availability", "locations", "service", "previous_availability",
                          "previous_service"}
    assert all(value is None for value in found.values())


def test_an_error_while_loading_the_others_is_raised():
    def broken():
        raise ValueError("survey.csv, row 3: bad")

    with pytest.raises(ValueError, match=r"survey\.csv, row 3"):
        load_releases([], [], meanwhile=broken)
