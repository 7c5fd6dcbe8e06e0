"""The row groups of Parquet inputs, as units of work of the fast BDC engine.

Nothing here is compiled, so the NumPy path for block-ordered Parquet
(:mod:`assetmap.bdc.fast.sorted_numpy`) needs no numba.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assetmap.bdc.fast.common import Fallback as Unreadable

__all__ = ["PARQUET_COLUMNS", "parquet_units"]

PARQUET_COLUMNS = ["location_id", "provider_id", "technology", "max_advertised_download_speed",
                   "max_advertised_upload_speed", "low_latency", "business_residential_code",
                   "block_geoid"]
_HIVE_STATE = re.compile(r"^state_usps=([A-Z]{2})$")


def parquet_units(path: Path, sel: dict[str, Any]) -> list[tuple]:
    """Return the row groups of a Parquet file or directory: (file, group, columns, state, rows).

    With states selected, the ``state_usps=XX`` partitions of other states are left out.
    Raises :class:`assetmap.bdc.fast.common.Fallback` for a layout the engine does not read.
    """
    import pyarrow.parquet as pq

    files = sorted(path.glob("**/*.parquet")) if path.is_dir() else [path]
    columns = PARQUET_COLUMNS + (["h3_res8_id"] if sel["want_h3"] else [])
    units = []
    for f in files:
        hive = [m.group(1) for part in f.parts if (m := _HIVE_STATE.match(part))]
        state = ord(hive[0][0]) * 256 + ord(hive[0][1]) if hive else 0
        if hive and len(sel["states"]) and state not in sel["states"]:
            continue  # a partition of another state is not read (nor counted), as in DuckDB
        file = pq.ParquetFile(f)  # its footer is read once
        names = set(file.schema_arrow.names)
        if "state_usps" in names or not set(columns) <= names or (len(sel["states"]) and not hive):
            raise Unreadable(f"{f}: not a layout the fast engine reads")
        meta = file.metadata
        units += [(f, g, columns, state, meta.row_group(g).num_rows)
                  for g in range(meta.num_row_groups)]
    return units
