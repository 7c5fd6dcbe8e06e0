"""The Dask path on a small distributed.LocalCluster gives the DuckDB path's frame."""

from __future__ import annotations

import pandas as pd
import pytest

import assetmap as am
from tests.bdc_fixtures import synthetic

__all__ = ["synthetic"]

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

# dask's Parquet reader calls reset_index(inplace=True), deprecated in pandas 3.1 (with
# pandas.errors.Pandas4Warning, a DeprecationWarning; named by message, as pandas 2 lacks it)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning",
                                        "ignore:The inplace keyword:FutureWarning")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
@pytest.mark.parametrize(("fmt", "level"), [("parquet", "tract"), ("csv", "block_group"),
                                            ("zip", "h3")])
def test_dask_matches_duckdb(client, synthetic, fmt, level):
    from assetmap.bdc.service_dask import aggregate_bdc_dask  # internal: not an am name

    src = synthetic["parquet"][0] if fmt == "parquet" else synthetic[fmt]
    got = aggregate_bdc_dask(src, level=level, blocksize="256KB")
    want = am.aggregate_bdc(synthetic["parquet"][0], level=level)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs["assetmap"]["engine"] == "dask"
    assert client.status == "running"
