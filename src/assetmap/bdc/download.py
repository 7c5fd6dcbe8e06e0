"""Download FCC BDC fixed-availability files through the FCC's Public Data API.

The API (FCC, "BDC Public Data API Specification"; OpenAPI "BDC Public Data" 1.2.0, server
``https://broadbandmap.fcc.gov/api/public``) is a bulk-file API behind two request headers,
``username`` (the e-mail of a broadbandmap.fcc.gov account) and ``hash_value`` (the API token
made under "Manage API Access"), and allows 10 requests a minute. Three endpoints are used,
relative to ``settings.fcc_api_url``::

    GET /listAsOfDates                                  {"data": [{"data_type", "as_of_date"}]}
    GET /downloads/listAvailabilityData/{as_of_date}    {"data": [{"file_id", "category",
                                                          "subcategory", "technology_type",
                                                          "technology_code", "state_fips",
                                                          "state_name", "file_type",
                                                          "file_name", "record_count", ...}]}
    GET /downloads/downloadFile/availability/{file_id}  a zip holding one CSV

Every request goes through :func:`assetmap._http.fetch`: cached under
``<cache_dir>/http/<sha256 of method, URL, params>.json`` (listings) or ``.zip`` (files); the
credentials travel only as headers, so they reach no cache key, file name, sidecar, log,
message or record. Files are cached by file id (an FCC file id names one immutable file);
the two listings are asked again whenever the cache is not forced (``offline``), so
``as_of="latest"`` sees a new release and a revised listing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from assetmap._http import HTTPStatusError, cached_path, fetch
from assetmap.bdc._fcc_api import (
    THROTTLE,
    check_every_state,
    data_rows,
    latest_availability_date,
    select_files,
)
from assetmap.bdc._schema import TECHNOLOGIES
from assetmap.errors import ConfigError, DownloadError
from assetmap.geoid import state_fips
from assetmap.settings import settings

__all__ = ["BdcFiles", "download_bdc"]

logger = logging.getLogger(__name__)

_SOURCE = "FCC Broadband Data Collection, Public Data API"
_CREDENTIALS_HINT = (
    "set am.settings.fcc_username and am.settings.fcc_api_token (or the environment "
    "variables ASSETMAP_FCC_USERNAME and ASSETMAP_FCC_API_TOKEN): the user name is the e-mail "
    "of your broadbandmap.fcc.gov account, the token is made under 'Manage API Access'"
)


class BdcFiles(list[Path]):
    """The downloaded files (a list of paths) and, in ``record``, what they are.

    ``record`` holds only plain values (JSON-ready, no credentials): ``source``, ``api_url``,
    ``as_of``, ``as_of_date``, ``states``, ``technologies``, ``file_ids``, ``file_names`` and
    ``files`` (one dict per file: ``file_id``, ``file_name``, ``state_fips``, ``state_name``,
    ``technology_code``, ``technology_code_desc``, ``record_count``, ``path``).
    """

    record: dict[str, Any]

    def __init__(self, paths: Iterable[Path] = (), *, record: Mapping[str, Any] | None = None):
        super().__init__(paths)
        self.record = dict(record or {})




def download_bdc(
    *,
    states: str | Iterable[str],
    as_of: str | dt.date = "latest",
    technologies: Iterable[int | str] | None = None,
    dest: str | os.PathLike[str] | None = None,
) -> BdcFiles:
    """Download the FCC's state fixed-broadband availability zips from the Public Data API.

    Parameters
    ----------
    states : str or iterable of str
        States by USPS code or FIPS (any case; names work too): ``["TX"]``, ``"48"``.
    as_of : str or datetime.date
        ``"latest"`` (the newest as-of date the API lists for availability data) or an as-of
        date, ``"2024-06-30"``.
    technologies : iterable of int, optional
        FCC technology codes to keep (0, 10, 40, 50, 60, 61, 70, 71, 72); default all.
    dest : path, optional
        A folder to put the files in, named as the FCC names them
        (``bdc_48_Cable_fixed_broadband_J24_....zip``): hard-linked to the cache where the
        file system allows, else copied. Default: the paths in the cache (do not modify them).

    Returns
    -------
    BdcFiles
        A list of zip paths, ordered by state FIPS, technology code, file name and file id, with
        ``.record`` (as-of date, file ids, file names, ...) for a manifest. The zips are what
        :func:`assetmap.load_bdc` reads.

    Raises
    ------
    ConfigError
        Before any request: credentials are not set (unless ``settings.offline`` serves
        everything from the cache), or ``as_of`` / ``technologies`` is not valid.
    GeoidError
        Before any request: a state is not recognised.
    DownloadError
        The API refused the credentials (HTTP 401/403; nothing is cached), it lists no file for
        a requested state, or a download failed (the message names the file id).
    OfflineError
        ``settings.offline`` is on and a listing or a file is not in the cache.

    Examples
    --------
    >>> import assetmap as am
    >>> with am.settings.override(fcc_username=None, fcc_api_token=None, offline=False):
    ...     try:
    ...         am.download_bdc(states=["TX"])
    ...     except am.errors.ConfigError as exc:
    ...         print("ASSETMAP_FCC_API_TOKEN" in str(exc))
    True
    >>> files = am.download_bdc(states=["TX"], technologies=[40, 50])  # doctest: +SKIP
    >>> files.record["as_of_date"], files.record["file_names"]  # doctest: +SKIP
    ('2025-06-30', ['bdc_48_Cable_fixed_broadband_J25_...', 'bdc_48_Fiber...'])
    >>> avail = am.load_bdc(files, counties=["48135"])  # doctest: +SKIP
    """
    wanted = _state_codes(states)
    techs = _technology_codes(technologies)
    latest = isinstance(as_of, str) and as_of.strip().lower() == "latest"
    date = None if latest else _as_of_date(as_of)
    headers = _credentials()
    base = settings.fcc_api_url
    if date is None:
        dates = _get_json(f"{base}/listAsOfDates", headers, "FCC BDC as-of dates")
        date = latest_availability_date(dates)
    listing = _get_json(
        f"{base}/downloads/listAvailabilityData/{date}", headers,
        f"FCC BDC availability files as of {date}",
        params={"category": "State", "technology_type": "Fixed Broadband"},
    )
    chosen = select_files(data_rows(listing, "listAvailabilityData"), wanted, techs)
    check_every_state(chosen, wanted, techs, date)
    folder = None if dest is None else Path(dest).expanduser()
    paths: list[Path] = []
    files: list[dict[str, Any]] = []
    names: set[str] = set()
    for row in chosen:
        file_id = str(row["file_id"])
        name = _safe_name(row.get("file_name"), file_id, names)
        url = f"{base}/downloads/downloadFile/availability/{quote(file_id, safe='')}"
        path = _download_file(url, headers, f"FCC BDC file {file_id} ({name})")
        if folder is not None:
            path = _place(path, folder, name)
        paths.append(path)
        files.append({"file_id": file_id, "file_name": row.get("file_name"),
                      "state_fips": row["_state"], "state_name": row.get("state_name"),
                      "technology_code": row.get("technology_code"),
                      "technology_code_desc": row.get("technology_code_desc"),
                      "record_count": row.get("record_count"), "path": str(path)})
    logger.info("FCC BDC as of %s: %d file(s) for state(s) %s", date, len(paths),
                ", ".join(wanted))
    record = {"source": _SOURCE, "api_url": base, "as_of": str(as_of), "as_of_date": date,
              "states": wanted, "technologies": sorted(techs) if techs else None,
              "file_ids": [f["file_id"] for f in files],
              "file_names": [f["file_name"] for f in files], "files": files}
    return BdcFiles(paths, record=record)


def _state_codes(states: str | Iterable[str]) -> list[str]:
    items = [states] if isinstance(states, str | int) else list(states)
    if not items:
        raise ConfigError("states is empty: name at least one state, e.g. states=['TX']")
    return sorted({state_fips(s) for s in items})


def _technology_codes(technologies: Iterable[int | str] | None) -> set[int] | None:
    if technologies is None:
        return None
    items = [technologies] if isinstance(technologies, str | int) else list(technologies)
    codes = set()
    for item in items:
        try:
            code = int(str(item).strip())
        except ValueError:
            code = -1
        if code not in TECHNOLOGIES:
            raise ConfigError(
                f"technologies: {item!r} is not an FCC fixed technology code; "
                f"use some of {list(TECHNOLOGIES)}"
            )
        codes.add(code)
    if not codes:
        raise ConfigError("technologies is empty: give codes, or None for all")
    return codes


def _as_of_date(as_of: str | dt.date) -> str:
    if isinstance(as_of, dt.date):
        return as_of.isoformat()[:10]
    try:
        return dt.date.fromisoformat(str(as_of).strip()).isoformat()
    except ValueError as exc:
        raise ConfigError(
            f"as_of must be 'latest' or a date like '2024-06-30', got {as_of!r}"
        ) from exc


def _credentials() -> dict[str, str]:
    user, token = settings.fcc_username, settings.fcc_api_token
    if user and token:
        return {"username": user, "hash_value": token}
    if settings.offline:
        return {}  # offline mode serves the cache, which never needs them
    missing = [name for name, value in (("fcc_username", user), ("fcc_api_token", token))
               if not value]
    raise ConfigError(
        f"the FCC Public Data API needs credentials and {' and '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not set: {_CREDENTIALS_HINT}"
    )


def _refused(status: object, what: str) -> DownloadError:
    return DownloadError(
        f"the FCC Public Data API refused the credentials (HTTP {status}) for {what}; "
        f"nothing was cached. Check them: {_CREDENTIALS_HINT}"
    )


def _download_file(url: str, headers: dict[str, str], description: str) -> Path:
    """Return a file's zip: from the cache if there (no request, no wait), else fetched."""
    if not settings.offline:
        cached = cached_path(url)
        if cached is not None:
            return cached
        THROTTLE.wait(settings.fcc_requests_per_minute)
    try:
        return fetch(url, expect="zip", headers=headers, description=description)
    except HTTPStatusError as exc:
        if exc.status in (401, 403):
            raise _refused(exc.status, description) from exc
        raise


def _get_json(url: str, headers: dict[str, str], description: str, *,
              params: dict[str, str] | None = None) -> Any:
    """Return a listing, asked again when online (in turn), from the cache when offline."""
    if not settings.offline:
        THROTTLE.wait(settings.fcc_requests_per_minute)
    try:
        path = fetch(url, params=params, expect="json", headers=headers, cache=False,
                     description=description)
    except HTTPStatusError as exc:
        if exc.status in (401, 403):
            raise _refused(exc.status, description) from exc
        raise
    with path.open("rb") as handle:
        payload = json.load(handle)
    status = payload.get("status_code") if isinstance(payload, dict) else None
    if str(status) in ("401", "403"):
        raise _refused(status, description)
    if isinstance(payload, dict) and str(payload.get("status", "")).lower() == "fail":
        raise DownloadError(f"{description}: the FCC Public Data API answered status 'fail' "
                            f"({str(payload.get('message'))[:200]})")
    return payload


def _safe_name(file_name: Any, file_id: str, used: set[str]) -> str:
    """Return the FCC's file name as a plain file name (no folders), unique in ``used``."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(file_name or "")).strip("._")
    stem = stem.removesuffix(".zip") or f"bdc_file_{file_id}"
    name = f"{stem}.zip" if f"{stem}.zip" not in used else f"{stem}_{file_id}.zip"
    used.add(name)
    return name


def _place(source: Path, folder: Path, name: str) -> Path:
    """Hard-link (or copy) ``source`` to ``folder/name`` atomically; return the new path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    tmp = folder / f".{name}.{os.getpid()}.part"
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
