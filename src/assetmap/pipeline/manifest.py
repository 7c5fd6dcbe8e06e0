"""The manifest of a run: the study, sources and vintages, versions, and a hash of each input.

``manifest.json`` is written beside the outputs so a result can be reproduced and checked:
the study file, the sources and vintages cited, the versions of assetmap and its main
dependencies, a SHA-256 of every local input file, and what each loader read and kept.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from assetmap._report import get_report, merge_sources
from assetmap._safepath import inside
from assetmap.pipeline._source_keys import PATH_KEYS
from assetmap.pipeline.analyse import Results
from assetmap.pipeline.config import StudyConfig
from assetmap.pipeline.fcc import manifest_entry
from assetmap.pipeline.sources import Sources

__all__ = ["input_files", "write_manifest"]


def input_files(config: StudyConfig, *, bdc_files: Sequence[str] = (),
                downloaded: Sequence[str | Path] = ()) -> list[Path]:
    """Return the local input files a study names (the study file first), for hashing.

    Parameters
    ----------
    config : StudyConfig
        The study.
    bdc_files : sequence of str
        With ``[bdc] files = "fcc"``: the files fetched from the FCC Public Data API.
    downloaded : sequence of str or Path
        The cached files downloaded for ``[sources]`` (NCES EDGE schools, Ookla tiles).

    Examples
    --------
    >>> from assetmap.pipeline.config import parse_study
    >>> input_files(parse_study({"area": {"state": "TX"}, "census": {"tracts": "tiger"}}))
    []
    """
    current = list(bdc_files) if config.from_fcc else config.bdc["files"]
    sources = [config.sources[k] for k in PATH_KEYS
               if not (k == "schools" and config.nces_schools)]
    names = [config.census["tracts"], *config.acs_files, config.district_boundary, *current,
             *config.bdc["previous_files"], *sources, *map(str, downloaded)]
    files = []
    for name in names:
        if name and "://" not in name and name not in {"tiger", "cb", "api"}:
            path = Path(name)
            if path.is_file():
                files.append(path)
    if config.path is not None:
        files.insert(0, Path(config.path))
    return files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in ("assetmap", "geopandas", "shapely", "pandas", "pyproj", "duckdb", "folium"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(
    config: StudyConfig,
    sources: Sources,
    results: Results,
    paths: dict[str, Path],
    *,
    inputs: list[Path],
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write ``manifest.json`` into the study's output folder and return what it holds.

    Parameters
    ----------
    config : StudyConfig
        The study (its file, area, weights and output folder).
    sources : Sources
        The loaded sources: their cited sources, vintages and run reports.
    results : Results
        The analysed frames (the weights the scores were built with).
    paths : dict
        The outputs written, by format.
    inputs : list of Path
        The local input files to hash (:func:`input_files`).
    details : dict, optional
        What writers reported beyond their files (``{"ntia": ...}``: the NTIA files' rows).

    Returns
    -------
    dict
        The manifest: ``study``, ``area``, ``weights``, ``rules`` (the BEAD rule set, as
        data) and ``definition`` (as a sentence), ``bdc_download`` (with ``[bdc] files =
        "fcc"``: as-of date, file ids and file names; else None), ``downloads`` (each file
        downloaded for ``[sources]``, by key: source, URL, school year or quarter, file
        name, bytes, SHA-256), ``sources``, ``vintages``,
        ``illustrative_data``, ``inputs`` (path, bytes, SHA-256), ``versions``, ``outputs``
        (format -> file, relative to the output folder), ``ntia`` (with the ``ntia`` format:
        each file's rows, rows left out), ``loaded``.

    Examples
    --------
    Through a study (``Study.run`` writes it last)::

        import json
        import assetmap as am
        result = am.Study.from_toml("study.toml").run()
        json.loads(result.paths["manifest"].read_text())["inputs"]
    """
    frames = [*sources.frames().values(), results.scored]
    cited, vintages, illustrative = merge_sources(*frames)
    reports = {name: _compact(get_report(frame)) for name, frame in sources.frames().items()}
    hashed = {p: _sha256(p) for p in inputs}
    manifest = {
        "assetmap_manifest": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "study": config.study,
        "study_file": str(config.path) if config.path else None,
        "area": config.area,
        "weights": results.scored.attrs.get("assetmap", {}).get("score_spec", {}).get(
            "weights", config.weights
        ),
        "rules": config.rules.as_dict(),
        "definition": config.rules.describe(),
        "bdc_download": manifest_entry(_download(sources)),
        "downloads": _downloads(sources, hashed),
        "sources": cited,
        "vintages": vintages,
        "illustrative_data": illustrative,
        "inputs": [
            {"path": str(p), "bytes": p.stat().st_size, "sha256": hashed[p]} for p in inputs
        ],
        "versions": _versions(),
        "outputs": {k: _relative(Path(v), Path(config.out_dir)) for k, v in paths.items()},
        **(details or {}),
        "loaded": reports,
    }
    Path(config.out_dir).mkdir(parents=True, exist_ok=True)
    out = inside(config.out_dir, "manifest.json")
    out.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    return manifest


def _download(sources: Sources) -> dict[str, Any] | None:
    record = sources.extras.get("bdc_download")
    return record if isinstance(record, dict) else None


def _downloads(sources: Sources, hashed: dict[Path, str]) -> dict[str, Any]:
    """Return the records of the files downloaded for ``[sources]``, with size and SHA-256.

    ``hashed``: SHA-256 already computed for the inputs (a cached download is one of them).
    """
    records = sources.extras.get("downloads")
    out: dict[str, Any] = {}
    for key, record in (records if isinstance(records, dict) else {}).items():
        entry = {k: v for k, v in record.items() if k != "path"}
        path = Path(record["path"]) if record.get("path") else None
        if path is not None and path.is_file():
            entry.update(bytes=path.stat().st_size, sha256=hashed.get(path) or _sha256(path))
        out[key] = entry
    return out


def _relative(path: Path, out_dir: Path) -> str:
    """Return ``path`` relative to the output folder (POSIX separators), else its name."""
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        return path.name


def _compact(report: dict[str, Any]) -> dict[str, Any]:
    keep = ("source", "kind", "rows_read", "rows_out", "repaired", "rejected", "illustrative")
    return {k: report.get(k) for k in keep}
