"""``load_releases``: BDC releases and the other sources loaded side by side."""

from __future__ import annotations

import pytest

import assetmap as am
from assetmap.datasets import data_path
from assetmap.pipeline.sources import load_releases  # internal: the pipeline's parallel loader

ILLUSTRATIVE_BDC = ("fcc", "bdc_48_illustrative_ector_fixed_availability_J25.zip")
ILLUSTRATIVE_BDC_PREVIOUS = ("fcc", "bdc_48_illustrative_ector_fixed_availability_D24.zip")


def test_both_releases_equal_loading_them_one_after_the_other():
    found, other = load_releases(data_path(*ILLUSTRATIVE_BDC),
                                 data_path(*ILLUSTRATIVE_BDC_PREVIOUS), meanwhile=lambda: 42)
    assert other == 42
    old = am.load_bdc(data_path(*ILLUSTRATIVE_BDC_PREVIOUS))
    assert found["previous_availability"].equals(old)
    assert found["previous_service"].equals(am.service_by_area(old, level="tract"))
    assert found["service"].equals(am.service_by_area(found["locations"], level="tract"))
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
