"""Parquet input of the fast BDC aggregation engine (:mod:`assetmap.bdc.fast.engine`).

Row groups are read with pyarrow (only the needed columns); :func:`parse_columns` is the
counterpart of :func:`assetmap.bdc.fast.parse.parse_csv` over the typed columns, with
the same checks: a null, a text id that is not digits, a GEOID that is not 15 digits, an
unknown technology, a negative speed or a low latency other than 0/1 stops it, and the state
goes to the DuckDB engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from assetmap.bdc.fast.common import Fallback as Unreadable
from assetmap.bdc.fast.kernels import BAD_LINE, OK
from assetmap.bdc.fast.parse import (
    _offer,
    code_selected,
    filter_of,
    offer_table,
    push_row,
    upper,
)

__all__ = ["parquet_unit", "parse_columns"]


@njit(nogil=True, cache=True, inline="always")
def _text_digits(offsets, data, r, maxlen):
    """Parse the r-th Arrow string as digits: (value, length) or length -1."""
    s, e = offsets[r], offsets[r + 1]
    n = e - s
    if n == 0 or n > maxlen:
        return np.int64(0), -1
    v = np.int64(0)
    for j in range(s, e):
        c = data[j]
        if c < 48 or c > 57:
            return np.int64(0), -1
        v = v * 10 + (np.int64(c) - 48)
    return v, n


@njit(nogil=True, cache=True)
def parse_columns(loc_int, loc_off, loc_data, prov_off, prov_data, tech, down, up, low,
                  code_off, code_data, geo_off, geo_data, h3_off, h3_data, state, area_div,
                  want_h3, codes, states, sel, rules, parts, out_loc, out_prov, out_area,
                  out_bits, counts, tally):
    """Parse typed columns (no nulls), as :func:`.csv_parser.parse_csv` parses lines.

    Returns the status; ``tally`` gets the rows kept and left out by each filter. ``state``
    is the row group's ``state_usps=`` partition (``c0 * 256 + c1``, upper case).
    """
    info = offer_table(rules)
    if info.shape[0] != 256:
        return BAD_LINE
    thresholds = rules[2]
    under_down, under_up = thresholds[0], thresholds[1]
    served_down, served_up = thresholds[2], thresholds[3]
    n = tech.shape[0]
    kept = 0
    tally[:] = 0
    for p in range(parts):
        counts[p] = 0
    state_ok = 1
    if states.shape[0] > 0:
        state_ok = 0
        for s in states:
            if s == state:
                state_ok = 1
    for r in range(n):
        if loc_int.shape[0] > 0:
            lv = loc_int[r]
            if lv < 0 or lv >= 2**58:
                return BAD_LINE
            ln = 1
            x = lv
            while x >= 10:
                x //= 10
                ln += 1
        else:
            lv, ln = _text_digits(loc_off, loc_data, r, 17)
        pv, pn = _text_digits(prov_off, prov_data, r, 17)
        geoid, gn = _text_digits(geo_off, geo_data, r, 15)
        t = np.int64(tech[r])
        if t < 0 or t > 255:
            return BAD_LINE
        code_info = info[t]
        if ln < 0 or pn < 0 or gn != 15 or code_info == 0:
            return BAD_LINE
        d, u, lo = np.int64(down[r]), np.int64(up[r]), np.int64(low[r])
        if d < 0 or u < 0 or d > 2147483647 or u > 2147483647 or (lo != 0 and lo != 1):
            return BAD_LINE
        h3 = np.int64(0)
        if want_h3:
            s, e = h3_off[r], h3_off[r + 1]
            if e - s != 15:
                return BAD_LINE
            for j in range(s, e):
                c = h3_data[j]
                if 48 <= c <= 57:
                    h3 = h3 * 16 + (c - 48)
                elif 97 <= c <= 102:
                    h3 = h3 * 16 + (c - 87)
                else:
                    return BAD_LINE
        cs, ce = code_off[r], code_off[r + 1]
        if codes[256] == 0:
            code_ok = np.int64(1)
        elif ce - cs == 1 and code_data[cs] < 128:  # one ASCII byte: no call
            code_ok = np.int64(codes[upper(code_data[cs])])
        else:
            code_ok = code_selected(codes, code_data, cs, ce)
            if code_ok < 0:
                return BAD_LINE
        f = filter_of(geoid, state_ok, code_ok, sel)
        if f != 0:
            tally[f] += 1
            continue
        kept += 1
        push_row((out_loc, out_prov, out_area, out_bits), counts, parts, lv * 32 + ln,
                 pv * 32 + pn, h3 if want_h3 else geoid // area_div,
                 _offer(code_info, d, u, lo, under_down, under_up, served_down, served_up))
    tally[0] = kept
    return OK


def _strings(arr) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise Unreadable(f"a text column stored as {arr.type}")
    _, offs, data = arr.buffers()
    wide = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    off = np.frombuffer(offs, dtype=wide)[arr.offset:arr.offset + len(arr) + 1]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return off.astype(np.int64), raw


def parquet_unit(path: Path, group: int, columns: list[str], state: int) -> tuple:
    """Read one row group's columns as :func:`parse_columns` takes them (its first args)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read_row_group(group, columns=columns, use_threads=False)
    cols = {}
    for name in columns:
        arr = table.column(name).combine_chunks()
        if arr.null_count:
            raise Unreadable(f"{path}: nulls in {name}")
        cols[name] = arr
    loc = cols["location_id"]
    empty_off, empty_raw = np.zeros(1, np.int64), np.zeros(0, np.uint8)
    if pa.types.is_integer(loc.type):
        loc_int, (loc_off, loc_raw) = loc.to_numpy().astype(np.int64), (empty_off, empty_raw)
    else:
        loc_int, (loc_off, loc_raw) = np.zeros(0, np.int64), _strings(loc)
    ints = {}
    for name, dtype in (("technology", np.int16), ("max_advertised_download_speed", np.int64),
                        ("max_advertised_upload_speed", np.int64), ("low_latency", np.int8)):
        if not pa.types.is_integer(cols[name].type):
            raise Unreadable(f"{path}: {name} stored as {cols[name].type}")
        ints[name] = cols[name].to_numpy().astype(dtype, copy=False)
        if dtype is not np.int64 and (ints[name] != cols[name].to_numpy()).any():
            raise Unreadable(f"{path}: {name} out of range")
    h3 = _strings(cols["h3_res8_id"]) if "h3_res8_id" in cols else (empty_off, empty_raw)
    return (loc_int, loc_off, loc_raw, *_strings(cols["provider_id"]), ints["technology"],
            ints["max_advertised_download_speed"], ints["max_advertised_upload_speed"],
            ints["low_latency"], *_strings(cols["business_residential_code"]),
            *_strings(cols["block_geoid"]), *h3, state)
