"""Row checks and the row selection of BDC availability rows, in SQL, with a code per row.

Every row read gets one check code ``_check`` (a small integer, cheap to group by):

* 0: kept as read; 1: kept after a repair (a 14-digit ``block_geoid`` gets its leading zero
  back, a number written with quotes or spaces inside its field is read as the number, and
  in :func:`assetmap.load_bdc` a letter code such as ``" r "`` is upper-cased and trimmed);
* 2-7: rejected, :data:`REJECT_REASONS` (an unknown technology code, a bad block GEOID, a
  missing or blank ``location_id`` or ``provider_id``, a missing speed, ``low_latency`` not
  0 or 1);
* 8 and up (``selection=`` only): the row passed the checks, kept or repaired, and a filter
  left it out: ``8 + 2 * f + repaired`` for the filter ``f`` of :data:`FILTERS`.

So the checks run on every row before any filter, and the counts per code say how many rows
were kept, repaired, rejected and filtered; they add up to the rows read. ``_check <= 1`` are
the rows to use. Letter codes (``business_residential_code``, ``state_usps``) are compared
upper-cased and without surrounding spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assetmap.bdc._schema import BUSINESS_RESIDENTIAL_CODES, TECHNOLOGIES

__all__ = ["FILTERS", "REJECT_REASONS", "checked_sql", "describe_filters", "filter_code",
           "reject_column", "row_filter", "row_selection", "split_code"]

REJECT_REASONS = {
    2: "unknown technology code",
    3: "block_geoid is not a 15-digit block GEOID",
    4: "missing or blank location_id",
    5: "missing or negative speed",
    6: "low_latency is not 0 or 1",
    7: "missing or blank provider_id",
}
#: the column each rejection is about (speeds: the download speed's, then the upload's)
REJECT_COLUMNS = {2: "technology", 3: "block_geoid", 4: "location_id",
                  5: "max_advertised_download_speed", 6: "low_latency", 7: "provider_id"}


def reject_column(code: int, download: Any) -> str:
    """Return the column that names a row rejected with ``code``.

    A speed rejection (5) names the download speed, unless that is present and not negative:
    then the upload speed is the one at fault.

    Examples
    --------
    >>> reject_column(5, 1000.0), reject_column(5, None), reject_column(2, 1000.0)
    ('max_advertised_upload_speed', 'max_advertised_download_speed', 'technology')
    """
    if code == 5 and download is not None and download >= 0:  # NaN compares False
        return "max_advertised_upload_speed"
    return REJECT_COLUMNS[code]


#: the filters, in the order they are tried; a row left out counts under the first it fails
FILTERS = ("states", "areas", "codes", "technologies")
FIRST_FILTER_CODE = 8
#: bits of ``_fix``: what was repaired in a row that passed the checks
FIX_GEOID, FIX_NUMBER, FIX_LETTERS, FIX_SPACES = 1, 2, 4, 8
REPAIR_REASONS = {
    FIX_GEOID: "block_geoid had lost its leading zero (14 digits); restored",
    FIX_NUMBER: "numbers written with quotes or spaces inside the field (e.g. '\" 500 \"') "
                "read as numbers",
    FIX_LETTERS: "business_residential_code or state_usps in lower case or with spaces; "
                 "upper-cased and trimmed",
    FIX_SPACES: "location_id or provider_id with spaces or tabs around it; trimmed (one "
                "location, one provider)",
}
#: the id columns trimmed of spaces and tabs around them (FIX_SPACES)
ID_COLUMNS = ("location_id", "provider_id")


def _sql_list(values: Iterable[Any]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def row_selection(*, states=None, counties=None, tracts=None, codes=None,
                  technologies=None) -> dict[str, list[Any]]:
    """Return the selection with its values normalised, for the SQL and for Arrow.

    Keys (each present only when selected): ``state_usps``, ``state_fips`` (2-digit
    prefixes of the block GEOID), ``county`` (5-digit prefixes), ``tract`` (11-digit
    prefixes), ``codes`` (upper-cased, trimmed) and ``technologies``.

    Examples
    --------
    >>> row_selection(states=["texas"], codes=[" r", "x"])
    {'state_usps': ['TX'], 'state_fips': ['48'], 'codes': ['R', 'X']}
    """
    from assetmap.geoid import county_fips, normalize_geoids, state_fips, state_usps

    selection: dict[str, list[Any]] = {}
    if states:
        selection["state_usps"] = [state_usps(str(s).strip()) for s in states]
        selection["state_fips"] = [state_fips(str(s).strip()) for s in states]
    if counties:
        selection["county"] = [county_fips(str(c)[:2], str(c)) if str(c).isdigit() else str(c)
                               for c in counties]
    if tracts:
        selection["tract"] = list(normalize_geoids(tracts, level="tract"))
    if codes:
        selection["codes"] = [str(c).strip().upper() for c in codes]
    if technologies:
        selection["technologies"] = [int(t) for t in technologies]
    return selection


#: the characters trimmed around codes and ids, and that make a value blank
BLANKS = " \t"
BLANKS_SQL = " || ".join(f"chr({ord(c)})" for c in BLANKS)  # as SQL text


def _letters(column: str) -> str:
    return f"upper(trim({column}, {BLANKS_SQL}))"


def _blank(value: str) -> str:
    """``value`` is NULL, empty or only spaces and tabs (trimmed only if it starts so)."""
    # a CASE, not OR: DuckDB evaluates every operand of OR, so trim would run on every row
    return (f"(CASE WHEN {value} IS NULL OR {value} = '' THEN TRUE "
            f"WHEN {_starts_blank(value)} THEN trim({value}, {BLANKS_SQL}) = '' ELSE FALSE END)")


def _edged(value: str) -> str:
    """``value`` starts or ends with a space or a tab (prefix and suffix tests only)."""
    return (f"({_starts_blank(value)} OR "
            + " OR ".join(f"{value} LIKE '%{c}'" for c in BLANKS) + ")")


def _starts_blank(value: str) -> str:
    # LIKE with a constant pattern: DuckDB tests the prefix (or suffix) without a function
    # call per row; on 5 M rows the blank and edge tests of both ids took 0.43 s of scan
    # time with starts_with and ends_with, 0.25 s with LIKE (benchmarks/RESULTS.md)
    return " OR ".join(f"{value} LIKE '{c}%'" for c in BLANKS)


def _trimmed_ids(int_ids: bool) -> tuple[str, str, list[str], str]:
    """Return the ids' edge tests (SQL and names), the ids trimmed, and the FIX_SPACES bit.

    The tests (``_e_<id>``) are made once per row beside ``_len``, and dropped with it.
    """
    ids = [c for c in ID_COLUMNS if not (int_ids and c == "location_id")]
    tests = "".join(f", {_edged(c)} AS _e_{c}" for c in ids)
    edged = " OR ".join(f"_e_{c}" for c in ids)
    return (tests, ", ".join(f"_e_{c}" for c in ids),
            [f"CASE WHEN _e_{c} THEN trim({c}, {BLANKS_SQL}) ELSE {c} END AS {c}" for c in ids],
            f"CASE WHEN {edged} THEN {FIX_SPACES} ELSE 0 END")


def _fixed_letters(column: str, canonical: str) -> str:
    """Return SQL: the code is not written canonically, but is once upper-cased and trimmed."""
    return f"({column} NOT IN ({canonical}) AND {column} <> {_letters(column)})"


def _in_letters(column: str, values: list[str]) -> str:
    """``column`` (upper-cased, trimmed) is one of ``values``; exact values test first."""
    listed = _sql_list(values)
    return f"(CASE WHEN {column} IN ({listed}) THEN TRUE ELSE {_letters(column)} IN ({listed}) END)"


def filter_conditions(selection: dict[str, list[Any]], geoid: str = "block_geoid"
                      ) -> dict[str, str]:
    """Return the SQL condition of each filter in force (keys of :data:`FILTERS`)."""
    conds: dict[str, str] = {}
    if "state_usps" in selection:
        conds["states"] = (f"{_in_letters('state_usps', selection['state_usps'])} AND "
                           f"substr({geoid}, 1, 2) IN ({_sql_list(selection['state_fips'])})")
    areas = [f"substr({geoid}, 1, {width}) IN ({_sql_list(selection[key])})"
             for key, width in (("county", 5), ("tract", 11)) if key in selection]
    if areas:
        conds["areas"] = " AND ".join(areas)
    if "codes" in selection:
        conds["codes"] = _in_letters("business_residential_code", selection["codes"])
    if "technologies" in selection:
        conds["technologies"] = f"technology IN ({', '.join(map(str, selection['technologies']))})"
    return conds


def describe_filters(selection: dict[str, list[Any]]) -> dict[str, str]:
    """Return the report's name of each filter in force (keys of :data:`FILTERS`).

    Examples
    --------
    >>> names = describe_filters(row_selection(counties=["48135"], codes=["R", "X"]))
    >>> names["areas"]
    "outside the counties ['48135']"
    >>> names["codes"]
    "business_residential_code not in ['R', 'X']"
    """
    names: dict[str, str] = {}
    if "state_usps" in selection:
        names["states"] = f"outside the states {selection['state_usps']}"
    areas = [f"the {label} {selection[key]}" for key, label in (("county", "counties"),
                                                               ("tract", "tracts"))
             if key in selection]
    if areas:
        names["areas"] = "outside " + " and ".join(areas)
    if "codes" in selection:
        names["codes"] = f"business_residential_code not in {selection['codes']}"
    if "technologies" in selection:
        names["technologies"] = f"technology not in {selection['technologies']}"
    return names


def row_filter(*, states=None, counties=None, tracts=None, codes=None, technologies=None) -> str:
    """Return the SQL WHERE condition of a selection (for :func:`checked_sql`'s ``where_sql``).

    Rows it leaves out are not counted; give ``selection=`` to :func:`checked_sql` instead to
    count them.
    """
    selection = row_selection(states=states, counties=counties, tracts=tracts, codes=codes,
                              technologies=technologies)
    conds = filter_conditions(selection)
    return " AND ".join(f"({c})" for c in conds.values()) if conds else "TRUE"


def split_code(code: int) -> tuple[str, str | None, bool]:
    """Return ``(kind, detail, repaired)`` of a check code.

    ``kind`` is ``"kept"``, ``"rejected"`` (detail: the reason) or ``"filtered"`` (detail:
    the key of :data:`FILTERS`); ``repaired`` whether a repair was made.

    Examples
    --------
    >>> split_code(0), split_code(1), split_code(2), split_code(13)
    (('kept', None, False), ('kept', None, True), ('rejected', 'unknown technology code', \
False), ('filtered', 'codes', True))
    """
    if code <= 1:
        return "kept", None, code == 1
    if code in REJECT_REASONS:
        return "rejected", REJECT_REASONS[code], False
    offset = code - FIRST_FILTER_CODE
    return "filtered", FILTERS[offset // 2], bool(offset % 2)


def filter_code(name: str, *, repaired: bool = False) -> int:
    """Return the check code of a row that passed the checks and the filter ``name`` left out.

    Examples
    --------
    >>> filter_code("codes"), filter_code("codes", repaired=True)
    (12, 13)
    """
    return FIRST_FILTER_CODE + 2 * FILTERS.index(name) + int(repaired)


def checked_sql(source: str, where_sql: str | None = None, *,
                selection: dict[str, list[Any]] | None = None, letters: bool = False,
                int_ids: bool = False) -> str:
    """Rows with a repaired block GEOID, a check code ``_check`` and repair bits ``_fix``.

    Parameters
    ----------
    source : str
        SQL of the rows, with the BDC columns (numbers as DOUBLE or integers) and, when
        ``selection`` is given, the flag ``_fixed`` (numbers repaired while scanning).
    where_sql : str, optional
        A condition (:func:`row_filter`): rows it leaves out are dropped uncounted, and the
        codes are 0-7 only (1: block GEOID repaired). Give ``selection`` instead to count them.
    selection : dict, optional
        :func:`row_selection`: rows it leaves out get a filter code (8 and up).
    letters : bool
        With ``selection``: return the letter codes upper-cased and trimmed, counted as
        repairs (:func:`assetmap.load_bdc` does; the aggregation only compares them).
    int_ids : bool
        ``location_id`` is an integer column (Parquet of :func:`assetmap.bdc_to_parquet`):
        it is missing only when NULL (an integer is never blank), which spares converting
        every id to text.

    Returns
    -------
    str
        SQL: the source's columns (technology SMALLINT and low_latency TINYINT for rows that
        pass), then ``_check`` and ``_fix`` (bits of the repairs of a row that passed).
    """
    techs = ", ".join(map(str, TECHNOLOGIES))
    geoid = "(CASE WHEN _len = 14 THEN '0' || block_geoid ELSE block_geoid END)"
    rejects = f"""
    WHEN technology IS NULL OR technology NOT IN ({techs}) THEN 2
    WHEN _len IS NULL OR _len NOT IN (14, 15) OR NOT regexp_full_match(block_geoid, '[0-9]+')
      THEN 3
    WHEN {'location_id IS NULL' if int_ids else _blank('CAST(location_id AS VARCHAR)')} THEN 4
    WHEN max_advertised_download_speed IS NULL OR max_advertised_upload_speed IS NULL
      OR max_advertised_download_speed < 0 OR max_advertised_upload_speed < 0 THEN 5
    WHEN low_latency IS NULL OR low_latency NOT IN (0, 1) THEN 6
    WHEN {_blank('provider_id')} THEN 7"""
    typed = ("CAST(CASE WHEN technology BETWEEN -32768 AND 32767 THEN technology END "
             "AS SMALLINT) AS technology, CAST(CASE WHEN low_latency BETWEEN -128 AND 127 "
             "THEN low_latency END AS TINYINT) AS low_latency")
    tests, names, ids, spaces = _trimmed_ids(int_ids)
    dropped = f"_len, {names}"
    if selection is None:
        return f"""
SELECT * EXCLUDE ({dropped}, _fixbits) REPLACE ({geoid} AS block_geoid, {typed}, {', '.join(ids)}),
  CASE {rejects}
    WHEN _fixbits > 0 THEN 1
    ELSE 0
  END::TINYINT AS _check,
  _fixbits::TINYINT AS _fix
FROM (SELECT *, (CASE WHEN _len = 14 THEN {FIX_GEOID} ELSE 0 END | {spaces}) AS _fixbits
      FROM (SELECT *, length(block_geoid) AS _len{tests} FROM ({source})) AS l) AS s
WHERE {(where_sql or 'TRUE').replace('block_geoid', geoid)}
"""
    fix = [f"CASE WHEN _len = 14 THEN {FIX_GEOID} ELSE 0 END",
           f"CASE WHEN _fixed THEN {FIX_NUMBER} ELSE 0 END", spaces]
    replace = [f"{geoid} AS block_geoid", typed, *ids]
    if letters:
        from assetmap.geoid import _states

        canonical = {"business_residential_code": _sql_list(BUSINESS_RESIDENTIAL_CODES),
                     "state_usps": _sql_list(sorted(set(_states()[1].values())))}
        fixed = " OR ".join(_fixed_letters(c, canonical[c]) for c in canonical)
        fix.append(f"CASE WHEN {fixed} THEN {FIX_LETTERS} ELSE 0 END")
        replace += [f"CASE WHEN {c} IN ({canonical[c]}) THEN {c} ELSE {_letters(c)} END AS {c}"
                    for c in canonical]
    filters = filter_conditions(selection, geoid)
    whens = "".join(
        f"\n    WHEN NOT coalesce({filters[name]}, FALSE) THEN "
        f"{filter_code(name)} + _rep"
        for name in FILTERS if name in filters)
    return f"""
SELECT * EXCLUDE ({dropped}, _fixed, _fixbits, _rep) REPLACE ({', '.join(replace)}),
  CASE {rejects}{whens}
    ELSE _rep
  END::TINYINT AS _check,
  _fixbits::TINYINT AS _fix
FROM (SELECT *, CASE WHEN _fixbits > 0 THEN 1 ELSE 0 END AS _rep
      FROM (SELECT *, ({' | '.join(fix)}) AS _fixbits
            FROM (SELECT *, length(block_geoid) AS _len{tests} FROM ({source})) AS l) AS f
     ) AS s
"""

