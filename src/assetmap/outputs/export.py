"""CSV and GeoPackage exports of the scored layers, with their run reports as JSON sidecars.

CSV cells that a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are prefixed with ``'`` so they show as text; real numbers
(``-0.5``, ``+3``) are left as they are, whatever the column's dtype (:mod:`assetmap._csvsafe`).
Every file is checked with :func:`assetmap._safepath.inside` before it is written: a path or
symbolic link leading out of ``out_dir`` is refused. Every layer that carries survey counts
(``responses`` and ``suppressed``) is checked again for small cells before it is written
(:func:`assetmap.loaders.suppression.suppress_published`); a row suppressed there is counted
in its report sidecar (``suppressed_at_export``) and warned about.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from assetmap._csvsafe import neutralize_formulas, write_csv
from assetmap._report import get_report
from assetmap._safepath import inside, output_folder
from assetmap.errors import ConfigError, RepairWarning
from assetmap.loaders.suppression import MIN_CELL_FLOOR, suppress_published
from assetmap.loaders.survey import COUNT_COLUMNS, RATE_COLUMNS

__all__ = ["export_layers", "neutralize_formulas"]

_FORMATS = ("csv", "gpkg")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_MAX_NAME = 120  # file names stay under the 255-byte limit of common file systems


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(frame)
    table.attrs = {}  # the report goes to its own sidecar; pandas would copy it at every step
    if isinstance(frame, gpd.GeoDataFrame):
        geometry = frame.geometry
        table = table.drop(columns=[frame.geometry.name])
        if geometry.geom_type.isin(["Point"]).all():
            points = geometry.to_crs(4326) if geometry.crs else geometry
            table["lon"], table["lat"] = points.x.round(6), points.y.round(6)
        else:
            table["wkt"] = (geometry.to_crs(4326) if geometry.crs else geometry).to_wkt()
    return table


def _survey_guard(name: str, frame: pd.DataFrame,
                  min_cell: int | None) -> tuple[pd.DataFrame, dict]:
    """Return the layer with any survey cell it still gives away suppressed, and its report."""
    report = dict(get_report(frame))
    if "responses" not in frame.columns or "suppressed" not in frame.columns:
        return frame, report
    threshold = int(min_cell or report.get("min_cell") or MIN_CELL_FLOOR)
    total = report.get("rows_aggregated") if report.get("kind") == "survey" else None
    guarded, n = suppress_published(frame, min_cell=threshold, total=total,
                                    columns=[*COUNT_COLUMNS, *RATE_COLUMNS])
    if n:
        report["suppressed_at_export"] = n
        warnings.warn(f"{name}: {n} survey row(s) would have revealed fewer than {threshold} "
                      "households; suppressed before writing", RepairWarning, stacklevel=3)
    return guarded, report


def export_layers(
    layers: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    *,
    formats: Iterable[str] = ("csv", "gpkg"),
    min_cell: int | None = None,
) -> dict[str, list[Path]]:
    """Write every layer as CSV and/or GeoPackage, plus its run report as ``<name>.report.json``.

    Parameters
    ----------
    layers : mapping of str to (Geo)DataFrame
        Layer name (letters, digits, ``_ . -``) -> frame, e.g. ``{"tracts": scored}``.
    out_dir : str or Path
        Directory to write to (created if missing).
    formats : iterable of {"csv", "gpkg"}
        CSV (geometry as ``lon``/``lat`` for points, WKT otherwise; formula-like text
        neutralised) and GeoPackage (one file per layer, EPSG:4326; GeoDataFrames only).
    min_cell : int, optional
        The survey threshold the export guard checks; default: the layer report's
        ``min_cell``, else 5.

    Returns
    -------
    dict
        Layer name -> files written.

    Raises
    ------
    ConfigError
        An unknown format, no layer, a bad or too long layer name, ``out_dir`` is a file, a
        file would be written outside ``out_dir`` (through a symbolic link) or over a folder,
        or the file system refuses a write.

    Examples
    --------
    >>> import tempfile
    >>> out = export_layers({"t": pd.DataFrame({"a": ["=1+1"]})}, tempfile.mkdtemp(),
    ...                     formats=["csv"])
    >>> sorted(p.name for p in out["t"])
    ['t.csv', 't.report.json']
    """
    formats = list(formats)
    unknown = [f for f in formats if f not in _FORMATS]
    if unknown:
        raise ConfigError(f"export formats must be among {', '.join(_FORMATS)}; got {unknown}")
    if not layers:
        raise ConfigError("no layers to export: pass at least one name -> frame")
    out = output_folder(out_dir)
    try:
        return _write_layers(layers, out, formats, min_cell)
    except OSError as exc:
        raise ConfigError(f"cannot write into {out}: {exc.strerror or exc} "
                          f"({str(exc.filename)[-120:] if exc.filename else 'a file'})") from exc


def _write_layers(layers: Mapping[str, pd.DataFrame], out: Path, formats: list[str],
                  min_cell: int | None) -> dict[str, list[Path]]:
    written: dict[str, list[Path]] = {}
    for name, frame in layers.items():
        if not _NAME.match(name) or len(name) > _MAX_NAME:
            raise ConfigError(f"layer name {name[:60]!r}{'...' if len(name) > 60 else ''} must "
                              f"use letters, digits, '_', '.' or '-' ({_MAX_NAME} at most)")
        files: list[Path] = []
        frame, layer_report = _survey_guard(name, frame, min_cell)
        if "csv" in formats:
            files.append(write_csv(_csv_frame(frame), inside(out, f"{name}.csv")))
        if "gpkg" in formats and isinstance(frame, gpd.GeoDataFrame):
            path = inside(out, f"{name}.gpkg")
            layer = frame.to_crs(4326) if frame.crs is not None else frame.set_crs(4326)
            layer.attrs = {}  # a copy; its report is written beside it
            layer.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
            files.append(path)
        report = inside(out, f"{name}.report.json")
        report.write_text(json.dumps(layer_report, indent=2, default=str), encoding="utf-8")
        files.append(report)
        written[name] = files
    return written
