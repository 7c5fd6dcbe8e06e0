"""The sort that load_bdc (duplicate keys) and service_by_area (rows by location) run on
every core: partitioned into value ranges sorted side by side, it must give NumPy's sort.

Through the public functions the ranges are cut only above a million values per range
(``MIN_PART``), which the test files do not reach; here ``min_part`` cuts small arrays.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from assetmap.bdc._sort import MIN_PART, sort_in_parts


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
@pytest.mark.parametrize("kind", ["wide", "few values", "sorted", "reversed", "one value"])
def test_sort_in_parts_equals_numpy_sort(parts, kind):
    rng = np.random.default_rng(parts)
    values = {
        "wide": rng.integers(-2**62, 2**62, 10_001),
        "few values": rng.integers(0, 5, 10_001),  # ranks fall inside runs of equal values
        "sorted": np.arange(10_001),
        "reversed": np.arange(10_001)[::-1].copy(),
        "one value": np.full(10_001, 7),
    }[kind]
    expected = np.sort(values)
    with ThreadPoolExecutor(max_workers=parts) as pool:
        out = sort_in_parts(values, pool=pool, parts=parts, min_part=100)
    assert out is values  # sorted in place
    np.testing.assert_array_equal(values, expected)


def test_small_arrays_are_one_sort():
    values = np.array([3, 1, 2])
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert sort_in_parts(values, pool=pool, parts=2).tolist() == [1, 2, 3]
    assert MIN_PART >= 1 << 16  # a range is worth a thread only when large
