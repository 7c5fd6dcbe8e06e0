"""``[bdc] files = "fcc"``: a study's BDC files from the FCC Public Data API, and their record.

``assetmap fetch study.toml`` downloads the fixed-availability files of the study's state for
``[bdc] as_of`` (:func:`assetmap.download_bdc`) into the download cache and writes a small
record of them (as-of date, file ids, file names, cached paths) under
``<cache_dir>/bdc/fcc_<state FIPS>_<as_of>.json``. ``assetmap build`` reads that record and
the cached files, so it needs no network and no credentials once fetched; with no record it
downloads first. ``as_of = "latest"`` stays at the release fetched last: fetch again to move
to a newer one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from assetmap.errors import ConfigError
from assetmap.pipeline.config import StudyConfig
from assetmap.settings import settings

__all__ = ["cite_release", "fcc_files", "fetch_fcc", "manifest_entry", "read_record",
           "record_path"]

_RECORD_KEYS = ("source", "api_url", "as_of", "as_of_date", "states", "technologies",
                "file_ids", "file_names", "files")


def record_path(config: StudyConfig) -> Path:
    """Return where the record of a study's FCC download is kept (in the cache).

    Examples
    --------
    >>> from assetmap.pipeline.config import parse_study
    >>> config = parse_study({"area": {"state": "TX"}, "bdc": {"files": "fcc"}})
    >>> record_path(config).name
    'fcc_48_latest.json'
    """
    from assetmap.geoid import state_fips

    state = state_fips(config.area["state"])
    return Path(settings.cache_dir) / "bdc" / f"fcc_{state}_{config.bdc['as_of']}.json"


def read_record(config: StudyConfig) -> dict[str, Any] | None:
    """Return the record of a study's fetched FCC files, or None if any file is missing.

    Examples
    --------
    >>> from assetmap.pipeline.config import parse_study
    >>> read_record(parse_study({"area": {"state": "TX"}, "bdc": {"files": "fcc"}})) is None
    True
    """
    path = record_path(config)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: the record of the FCC BDC download cannot be read ({exc}); "
                          "delete it and run 'assetmap fetch' again") from exc
    files = record.get("files") if isinstance(record, dict) else None
    if not isinstance(files, list) or not files:
        raise ConfigError(f"{path}: not a record of an FCC BDC download; delete it and run "
                          "'assetmap fetch' again")
    paths = [Path(str(f.get("path", ""))) for f in files if isinstance(f, dict)]
    if len(paths) != len(files) or not all(p.is_file() for p in paths):
        return None  # the cache was cleared: download again
    return record


def fetch_fcc(config: StudyConfig) -> dict[str, Any]:
    """Download a study's FCC BDC files (:func:`assetmap.download_bdc`); record and return them.

    Raises
    ------
    ConfigError
        The FCC credentials are not set (``ASSETMAP_FCC_USERNAME``, ``ASSETMAP_FCC_API_TOKEN``).
    DownloadError, OfflineError
        The API refused, failed, or (offline) the files are not cached.

    Examples
    --------
    Through a study with ``[bdc] files = "fcc"``::

        import assetmap as am
        am.Study.from_toml("study.toml").fetch()   # then builds run offline
    """
    from assetmap.bdc.download import download_bdc

    files = download_bdc(states=[config.area["state"]], as_of=config.bdc["as_of"])
    record = {k: files.record.get(k) for k in _RECORD_KEYS}
    path = record_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    tmp.replace(path)
    return record


def fcc_files(config: StudyConfig) -> tuple[list[str], dict[str, Any]]:
    """Return the cached files of a study's FCC download and its record (fetching if needed).

    Examples
    --------
    Through a study (``Study.load`` calls this for ``files = "fcc"``)::

        import assetmap as am
        am.Study.from_toml("study.toml").bdc_files()
    """
    record = read_record(config) or fetch_fcc(config)
    return [str(f["path"]) for f in record["files"]], record


def manifest_entry(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return what the manifest says of an FCC download: the as-of date, file ids and names.

    Examples
    --------
    >>> manifest_entry({"as_of": "latest", "as_of_date": "2025-06-30", "file_ids": ["1"],
    ...                 "file_names": ["bdc_48_Fiber"], "files": []})["as_of_date"]
    '2025-06-30'
    """
    if not record:
        return None
    keep = ("source", "api_url", "as_of", "as_of_date", "states", "file_ids", "file_names")
    return {k: record.get(k) for k in keep}


def cite_release(frames: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Cite a downloaded release by the FCC's own file names, not the cached files' names.

    The download cache names a file by its URL's hash, so the release code (``J25``) and the
    word ``illustrative`` of the FCC file names are not in the paths read. This returns
    ``frames`` with the BDC citation of each frame's report rebuilt from the record's
    ``file_names`` (:func:`assetmap.bdc._schema.bdc_source`; the record's as-of date when the
    names carry no code), marked illustrative when a name says so, as for a local file.

    Parameters
    ----------
    frames : dict
        ``availability``, ``locations`` and ``service`` of :func:`load_releases` (others
        pass unchanged). Not modified: each frame is a shallow copy with its own report.
    record : dict
        The FCC download's record (:func:`fetch_fcc`).

    Returns
    -------
    dict

    Examples
    --------
    >>> import pandas as pd
    >>> from assetmap._report import attach_report, get_report, start_report
    >>> rows = attach_report(pd.DataFrame({"x": [1]}), start_report("a1b2.zip", kind="bdc",
    ...     sources=[{"name": "FCC Broadband Data Collection, fixed availability"}]))
    >>> out = cite_release({"availability": rows}, {"as_of_date": "2025-06-30",
    ...                    "file_names": ["bdc_48_Fiber_fixed_broadband_J25_10feb2026"]})
    >>> get_report(out["availability"])["sources"][0]["vintage"]
    'as of June 30, 2025'
    """
    from assetmap._report import REPORT_KEY, attach_report, get_report
    from assetmap.bdc._schema import bdc_source

    names = [str(n) for n in record.get("file_names") or []]
    cited: dict[str, Any] = bdc_source(names)
    if "vintage" not in cited and record.get("as_of_date"):
        cited["vintage"] = f"as of {record['as_of_date']}"
    cited["files"] = names[:20]
    out = dict(frames)
    for key in ("availability", "locations", "service"):
        frame = frames.get(key)
        if frame is None or REPORT_KEY not in frame.attrs:
            continue
        report = get_report(frame)
        report["sources"] = [cited if s.get("name") == cited["name"] else s
                             for s in report.get("sources", [])]
        if any("illustrative" in n.lower() for n in names):
            report["illustrative"] = True
        out[key] = attach_report(frame.copy(deep=False), report)
    return out
