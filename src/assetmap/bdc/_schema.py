"""The BDC fixed-availability layout: columns, types, value ranges and the source citation.

Numbers are scanned as ``DOUBLE`` so that nothing is rounded on the way in (DuckDB's
``INTEGER`` cast rounds ``"24.6"`` to 25, across the 25/3 threshold). Speeds stay ``DOUBLE``
(fractions of a Mbps are kept); ``technology`` and ``low_latency`` are codes: a value that is
not one of the codes is a rejected row, and a good row's code is stored as a small integer.
A value outside :data:`RANGES` is not a BDC value at all: reading stops with a
:class:`~assetmap.errors.SchemaError` naming file, row and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from assetmap.bdc.rules import technology_names

__all__ = ["BDC_COLUMNS", "BDC_SOURCE", "BDC_TYPES", "BUSINESS_RESIDENTIAL_CODES", "LETTER_CODES",
           "NUMERIC", "PANDAS_DTYPES", "RANGES", "RESIDENTIAL_CODES", "SPEEDS", "TECHNOLOGIES",
           "bdc_source"]

BDC_SOURCE = {"name": "FCC Broadband Data Collection, fixed availability",
              "url": "https://broadbandmap.fcc.gov/data-download", "license": "public domain"}
#: the release code of an FCC file name: ``bdc_48_Cable_fixed_broadband_J25_...`` (June 2025)
_RELEASE = re.compile(r"_([JD])(2\d)(?=[_.]|$)")
_AS_OF = {"J": ("June 30", "06-30"), "D": ("December 31", "12-31")}


def bdc_source(files: Iterable[str | Path]) -> dict[str, str]:
    """Return the BDC source citation, with the as-of date the FCC file names carry.

    The FCC names each release's files with a code, ``J25`` for the June 30, 2025 as-of date
    and ``D24`` for December 31, 2024. When every named file carries the same code, it is
    the citation's ``vintage``; files without a code, or of two releases, leave it out.

    Examples
    --------
    >>> bdc_source(["bdc_48_Cable_fixed_broadband_J25_10feb2026.zip"])["vintage"]
    'as of June 30, 2025'
    >>> "vintage" in bdc_source(["my_bdc_rows.csv"])
    False
    """
    codes = {m.groups() for m in (_RELEASE.search(Path(f).name) for f in files) if m}
    if len(codes) != 1:
        return dict(BDC_SOURCE)
    half, year = codes.pop()
    return BDC_SOURCE | {"vintage": f"as of {_AS_OF[half][0]}, 20{year}"}
BDC_COLUMNS = (
    "frn", "provider_id", "brand_name", "location_id", "technology",
    "max_advertised_download_speed", "max_advertised_upload_speed", "low_latency",
    "business_residential_code", "state_usps", "block_geoid", "h3_res8_id",
)
SPEEDS = ("max_advertised_download_speed", "max_advertised_upload_speed")
NUMERIC = ("technology", *SPEEDS, "low_latency")
#: SQL type of each column in checked rows (numbers are scanned as DOUBLE first)
BDC_TYPES = dict.fromkeys(BDC_COLUMNS, "VARCHAR") | {
    "technology": "SMALLINT", **dict.fromkeys(SPEEDS, "DOUBLE"), "low_latency": "TINYINT"}
PANDAS_DTYPES = dict.fromkeys(BDC_COLUMNS, "str") | {
    "technology": "int16", **dict.fromkeys(SPEEDS, "float64"), "low_latency": "int8"}
#: the values a number column can hold at all (inclusive); outside them reading stops
RANGES = {"technology": (-32768, 32767), **dict.fromkeys(SPEEDS, (0, 2**31 - 1)),
          "low_latency": (-128, 127)}
#: columns the FCC writes as letters: compared upper-cased and stripped of spaces
LETTER_CODES = ("business_residential_code", "state_usps")
TECHNOLOGIES = tuple(sorted(technology_names()))
#: ``business_residential_code`` as the FCC writes it: R residential, B business, X both
BUSINESS_RESIDENTIAL_CODES = ("R", "B", "X")
#: the codes of the locations counted by default: residential (R) and both (X)
RESIDENTIAL_CODES = ("R", "X")
