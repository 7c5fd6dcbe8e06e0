"""Batch geocoding of street addresses through the Census Bureau geocoder.

The Census Bureau's batch service takes a multipart upload of a CSV file without a header,
one address per line (``id,street,city,state,zip``, at most 10,000 lines), at
``https://geocoding.geo.census.gov/geocoder/locations/addressbatch`` with the form field
``benchmark`` (``Public_AR_Current``). It answers with a CSV without a header, one line per
address, in any order::

    "1","321 W 5th St, Odessa, TX, 79761","Match","Exact",
        "321 W 5TH ST, ODESSA, TX, 79761","-102.37,31.84","123","L"
    "2","1 Nowhere Rd, Odessa, TX, ","No_Match"

(the first answer is one line, wrapped here). Fields: id, input address,
``Match``/``No_Match``/``Tie``, ``Exact``/``Non_Exact``, matched address, ``"lon,lat"``,
TIGER line id, side. All requests go through :func:`assetmap._http.fetch`.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from assetmap.errors import DownloadError, SchemaError

__all__ = ["CENSUS_BATCH_URL", "GEOCODE_COLUMNS", "geocode_addresses"]

CENSUS_BATCH_URL = "https://geocoding.geo.census.gov/geocoder/locations/addressbatch"
GEOCODE_COLUMNS = ["geocode_lat", "geocode_lon", "geocode_match", "geocode_match_type",
                   "geocode_address"]
_BATCH_LIMIT = 10_000
_RESPONSE = ["id", "input_address", "match", "match_type", "matched_address", "coordinates",
             "tiger_line_id", "side"]


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series:
    if name is None or name not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    text = frame[name].astype("string").fillna("").str.replace(r"[\r\n,\"]+", " ", regex=True)
    return text.str.strip().astype(object)


def _parse(body: str, *, url: str) -> pd.DataFrame:
    if not body.strip():
        return pd.DataFrame(columns=_RESPONSE)
    try:
        table = pd.read_csv(io.StringIO(body), header=None, names=_RESPONSE, dtype=str,
                            keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DownloadError(f"{url}: the geocoder's answer is not its CSV format: {exc}") from exc
    if not table["match"].isin(["Match", "No_Match", "Tie"]).all():
        first = table.loc[~table["match"].isin(["Match", "No_Match", "Tie"]), "match"].iloc[0]
        raise DownloadError(
            f"{url}: unexpected match indicator {first!r} in the geocoder's answer "
            "(expected Match, No_Match or Tie)"
        )
    return table


def geocode_addresses(
    frame: pd.DataFrame,
    *,
    street: str = "address",
    city: str | None = "city",
    state: str | None = "state",
    zipcode: str | None = "zip",
    url: str = CENSUS_BATCH_URL,
    benchmark: str = "Public_AR_Current",
    private: bool = False,
) -> pd.DataFrame:
    """Geocode the addresses in ``frame`` with the Census Bureau batch geocoder.

    Parameters
    ----------
    frame : DataFrame
        One address per row; not modified.
    street, city, state, zipcode : str
        Column names; ``city``, ``state`` and ``zipcode`` may be None or absent.
    url : str
        The batch endpoint (a local server in tests).
    benchmark : str
        The geocoder benchmark.
    private : bool
        For household addresses: the downloaded answer (addresses and coordinates) is
        deleted from the cache as soon as it has been read.

    Returns
    -------
    DataFrame
        Aligned to ``frame.index``: ``geocode_lat``, ``geocode_lon`` (NaN unless matched),
        ``geocode_match`` (``"Match"``, ``"No_Match"`` or ``"Tie"``), ``geocode_match_type``
        and ``geocode_address`` (the matched address). Rows with an empty street are not
        sent and get ``geocode_match = "No_Match"``.

    Raises
    ------
    DownloadError
        If the service fails or answers in another format (via :func:`assetmap._http.fetch`).

    Examples
    --------
    >>> import pandas as pd
    >>> geocode_addresses(pd.DataFrame({"address": [""]}))["geocode_match"].tolist()
    ['No_Match']
    """
    if street not in frame.columns:
        raise SchemaError(
            f"no address column {street!r} to geocode; columns: {list(frame.columns)}")
    out = pd.DataFrame(
        {"geocode_lat": np.nan, "geocode_lon": np.nan, "geocode_match": "No_Match",
         "geocode_match_type": None, "geocode_address": None},
        index=frame.index,
    )
    lines = pd.DataFrame({"street": _column(frame, street), "city": _column(frame, city),
                          "state": _column(frame, state), "zip": _column(frame, zipcode)})
    lines["id"] = np.arange(len(frame)).astype(str)
    todo = lines.loc[lines["street"] != "", ["id", "street", "city", "state", "zip"]]
    from assetmap import _http  # requests only when a download is needed

    for start in range(0, len(todo), _BATCH_LIMIT):
        chunk = todo.iloc[start : start + _BATCH_LIMIT]
        upload = chunk.to_csv(header=False, index=False, lineterminator="\n").encode("utf-8")
        path = _http.fetch(
            url,
            method="POST",
            data={"benchmark": benchmark},
            files={"addressFile": ("addresses.csv", upload, "text/csv")},
            expect="text",
            cache=not private,
            description=f"Census geocoder, {len(chunk)} addresses",
        )
        try:
            body = path.read_text(encoding="utf-8", errors="replace")
        finally:
            if private:
                path.unlink(missing_ok=True)
        answer = _parse(body, url=url)
        answer = answer.loc[answer["id"].isin(set(chunk["id"]))]
        positions = answer["id"].astype(int).to_numpy()
        coords = answer["coordinates"].str.split(",", n=1, expand=True).reindex(columns=[0, 1])
        lon = pd.to_numeric(coords[0], errors="coerce").to_numpy()
        lat = pd.to_numeric(coords[1], errors="coerce").to_numpy()
        matched = answer["match"].to_numpy() == "Match"
        index = frame.index[positions]
        out.loc[index, "geocode_match"] = answer["match"].to_numpy()
        out.loc[index, "geocode_match_type"] = answer["match_type"].replace("", None).to_numpy()
        out.loc[index, "geocode_address"] = answer["matched_address"].replace("", None).to_numpy()
        out.loc[index, "geocode_lat"] = np.where(matched, lat, np.nan)
        out.loc[index, "geocode_lon"] = np.where(matched, lon, np.nan)
    return out
