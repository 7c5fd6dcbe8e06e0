"""The row checks of a frame of availability rows, with numpy and pyarrow compute.

For the numpy path of :func:`assetmap.bdc.levels.service_by_area`
(:mod:`assetmap.bdc._frame_areas`): the tests of :func:`assetmap.bdc._checks.checked_sql`,
the first failing one winning, a slice of rows at a time (:func:`row_checks`); and the
counts per check code over every row of the frame, those outside the business/residential
codes (compared upper-cased and trimmed, :func:`assetmap.bdc._arrow.in_letters`) under the
filter's code (:func:`check_counts`), as
:func:`assetmap.bdc._counts.tally` takes them. :func:`checked_frame` runs the checks of a
file (:func:`assetmap.bdc._arrow.checked_table`) on a frame and returns the rows that pass,
for :mod:`assetmap.bdc.release_change`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assetmap.bdc import _sql as bead
from assetmap.bdc._arrow import checked_table, true_array
from assetmap.bdc._checks import FIX_NUMBER, filter_code
from assetmap.bdc._counts import counts_frame, rejected_rows
from assetmap.bdc._frame_levels import _KNOWN, _SPEEDS, _TECH_BIT, _reliable_table
from assetmap.bdc._frame_numbers import typed_frame
from assetmap.bdc._schema import BDC_COLUMNS, NUMERIC
from assetmap.bdc.rules import RuleSet
from assetmap.errors import SchemaError

__all__ = ["check_counts", "checked_frame", "row_checks"]

SLICE = 1 << 20  # rows checked at a time
_TECH_BIT16 = _TECH_BIT.astype(np.int16)


def check_counts(check: np.ndarray, chosen: np.ndarray) -> pd.DataFrame:
    """Return the rows per check code (``_check, n``) of every row of the frame.

    A row outside the codes (``chosen`` False) that passed the checks counts under the
    filter's code (+1 when repaired); one that failed them, under its reject code.
    """
    both = np.zeros(16, dtype=np.int64)  # per check code (0-7) * 2 + chosen
    for start in range(0, len(check), SLICE):  # small temporaries, one pass
        key = check[start:start + SLICE].astype(np.intp)
        key <<= 1
        key |= chosen[start:start + SLICE]
        both += np.bincount(key, minlength=16)
    inside, outside = both[1::2], both[0::2]
    codes = [*range(8), filter_code("codes"), filter_code("codes", repaired=True)]
    n = [*(inside[:2]), *(inside[2:] + outside[2:]), *outside[:2]]
    checks = pd.DataFrame({"_check": np.asarray(codes, dtype=np.int64),
                           "n": np.asarray(n, dtype=np.int64)})
    return checks[(checks["_check"] == 0) | (checks["n"] > 0)].reset_index(drop=True)


def row_checks(block: pa.ChunkedArray, nums: dict[str, np.ndarray], rules: RuleSet,
               check: np.ndarray, bits: np.ndarray, number: np.ndarray | None, *,
               rows: range | None = None) -> None:
    """Fill ``check`` (all tests but the blank ids), ``bits`` and ``number``, by slices.

    The tests of :func:`assetmap.bdc._checks.checked_sql`, the first failing one winning:
    2 unknown technology, 3 bad block GEOID, 5 negative speed, 6 bad latency; else 1 for a
    14-digit GEOID (repaired) or 0. ``number`` gets each good GEOID as a number (0 for a bad
    one, whose row is rejected). Slices keep the temporary arrays small; ``rows`` (default:
    all) limits the work to those rows, so that threads can share it.
    """
    tech, latency = nums["technology"], nums["low_latency"]
    down, up = (nums[c] for c in _SPEEDS)
    rows = rows if rows is not None else range(len(check))
    for start in range(rows.start, rows.stop, SLICE):
        size = min(SLICE, rows.stop - start)
        piece = slice(start, start + size)
        geoid = block.slice(start, size)
        length = np.asarray(pc.fill_null(pc.binary_length(geoid), -1).to_numpy(
            zero_copy_only=False))
        part = check[piece]
        part[:] = length == 14  # later tests overwrite earlier ones
        lat, d, u = latency[piece], down[piece], up[piece]
        part[(lat != 0) & (lat != 1)] = 6
        part[(d < 0) | (u < 0)] = 5
        good = ((length == 14) | (length == 15)) & true_array(pc.ascii_is_decimal(geoid), False)
        part[~good] = 3
        if number is not None:
            digits = (geoid if good.all() else
                      pc.if_else(pa.array(good), geoid, pa.scalar("0", geoid.type)))
            number[piece] = np.asarray(pc.cast(digits, pa.int64()).to_numpy(
                zero_copy_only=False))
        code = tech[piece] + 2**15  # the index of the lookup tables
        part[~_KNOWN[code]] = 2
        bits[piece] = _offer_bits(code, d, u, lat, rules)


def _offer_bits(tech: np.ndarray, down: np.ndarray, up: np.ndarray, latency: np.ndarray,
                rules: RuleSet) -> np.ndarray:
    """Each row's offer bits: technology group, underserved and served thresholds.

    ``tech`` is the technology code + 2**15 (the index of the lookup tables).
    """
    reliable = _reliable_table(rules)[tech]
    if rules.low_latency_required:
        reliable &= latency == 1
    (served_down, served_up), (under_down, under_up) = rules.served, rules.underserved
    bits = _TECH_BIT16[tech]
    bits[reliable & (down >= under_down) & (up >= under_up)] |= bead.UNDERSERVED_BIT
    bits[reliable & (down >= served_down) & (up >= served_up)] |= bead.SERVED_BIT
    return bits



def checked_frame(frame: pd.DataFrame, selection: dict, *, name: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[int, list[tuple[str, int, str]]]]:
    """Run the row checks of every engine on a frame of availability rows.

    The checks of :func:`assetmap.bdc._arrow.checked_table` (as :func:`assetmap.load_bdc`
    runs them on a file), then ``selection`` (:func:`assetmap.bdc._checks.row_selection`).

    Returns
    -------
    tuple
        The rows that pass, in the frame's order, as repaired (ids trimmed, 14-digit GEOIDs
        given their zero, letter codes upper-cased and trimmed; technology int16,
        low_latency int8); the counts per
        check code (``_check, _fix, n``, as :func:`assetmap.bdc._counts.tally` takes them);
        and per reject code its first rows (``name``, 1-based position, column).

    Raises
    ------
    SchemaError
        For a number column that holds text, or a number outside its column's range.

    Examples
    --------
    >>> rows = pd.DataFrame({c: ["1"] * 2 for c in BDC_COLUMNS}).assign(
    ...     technology=[50, 99], max_advertised_download_speed=1000,
    ...     max_advertised_upload_speed=1000, low_latency=1, business_residential_code=" r",
    ...     block_geoid="481350001001000")
    >>> kept, counts, places = checked_frame(rows, {"codes": ["R", "X"]}, name="old")
    >>> kept["business_residential_code"].tolist(), places
    (['R'], {2: [('old', 2, 'technology')]})
    """
    typed = typed_frame(frame, BDC_COLUMNS, name=name)  # text that is no number: named
    repaired = typed.pop("_fixed").to_numpy()
    table = pa.Table.from_pandas(typed, preserve_index=False
                                 ).replace_schema_metadata(None)  # the frame's dtypes: not kept
    for column in BDC_COLUMNS:
        kind = pa.float64() if column in NUMERIC else pa.large_string()
        values = table.column(column)
        try:
            values = pc.cast(values, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise SchemaError(f"{name}: column {column!r} cannot be read as "
                              f"{'numbers' if column in NUMERIC else 'text'} ({exc})") from exc
        table = table.set_column(table.schema.get_field_index(column), column, values)
    checked = checked_table([table], selection, letters=True, positions=False)
    check = checked.column("_check").to_numpy().astype(np.int64)
    fix = checked.column("_fix").to_numpy().astype(np.int64)
    number_fixed = repaired & (check == 0)  # a number written with quotes in its field
    fix[repaired & (check <= 1)] |= FIX_NUMBER
    check[number_fixed] = 1
    counts = counts_frame(np.bincount(check * 16 + fix))
    places: dict[int, list[tuple[str, int, str]]] = {}
    down = table.column("max_advertised_download_speed").to_numpy()
    for at, code, column in rejected_rows(check, down):
        places.setdefault(code, []).append((name, at + 1, column))
    kept = np.flatnonzero(check <= 1)
    return checked.select(list(BDC_COLUMNS)).take(pa.array(kept)).to_pandas(), counts, places
