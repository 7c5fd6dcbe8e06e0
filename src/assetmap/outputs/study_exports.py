"""A study's CSV and GeoPackage exports: its layers, the challenge candidates, and safe names.

A study writes only inside its output folder: ``safe_stem`` and ``inside`` (one check for
every writer, :mod:`assetmap._safepath`) are re-exported here.
The challenge candidates are written by area only (never a location).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from assetmap._safepath import inside, safe_stem

__all__ = ["inside", "safe_stem", "with_tracts", "write_exports"]


def with_tracts(frame: pd.DataFrame | None, tracts: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """Return a by-tract table as a map layer: the tract polygons joined on ``GEOID``.

    The table's rows and report (``.attrs``) are kept; a table without ``GEOID`` is returned
    as it is.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> tracts = gpd.GeoDataFrame({"GEOID": ["1"]}, geometry=[box(0, 0, 1, 1)], crs=4326)
    >>> layer = with_tracts(pd.DataFrame({"GEOID": [1], "n": [5]}), tracts)
    >>> layer[["GEOID", "n"]].to_dict("list"), layer.geometry.iloc[0].area
    ({'GEOID': ['1'], 'n': [5]}, 1.0)
    """
    if frame is None or "GEOID" not in frame or "GEOID" not in tracts:
        return frame
    shapes = tracts[["GEOID", "geometry"]].to_crs(4326).drop_duplicates("GEOID")
    layer = shapes.merge(pd.DataFrame(frame).assign(GEOID=frame["GEOID"].astype(str)),
                         on="GEOID", how="right")
    layer.attrs = dict(frame.attrs)
    return gpd.GeoDataFrame(layer, geometry="geometry", crs=4326)


def write_exports(
    *,
    layers: Mapping[str, pd.DataFrame],
    challenges: gpd.GeoDataFrame | None,
    out_dir: Path,
    stem: str,
    formats: tuple[str, ...],
) -> dict[str, Path]:
    """Write the layers and the challenge candidates (CSV, GeoPackage); return their files.

    Parameters
    ----------
    layers : mapping of str to (Geo)DataFrame
        Layer name (``<stem>_<layer>``) -> frame, written by
        :func:`assetmap.outputs.export.export_layers`.
    challenges : GeoDataFrame or None
        Challenge candidates (:func:`assetmap.challenge_candidates`): the CSV lists areas only
        with formula-like cells neutralised, the GeoPackage the same areas.
    out_dir : Path
        The output folder.
    stem : str
        The file-name stem (:func:`safe_stem`).
    formats : tuple of {"csv", "gpkg"}
        The formats to write.

    Returns
    -------
    dict
        ``<layer without the stem>.<extension>`` (e.g. ``tracts.csv``) -> file; the run
        reports written beside each layer are not listed.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> files = write_exports(layers={"s_tracts": pd.DataFrame({"GEOID": ["1"]})},
    ...                       challenges=None, out_dir=out, stem="s", formats=("csv",))
    >>> files == {"tracts.csv": out / "s_tracts.csv"}
    True
    """
    from assetmap.outputs.export import export_layers

    written = export_layers(layers, out_dir, formats=formats)
    if challenges is not None and len(challenges):
        written.update(_write_challenges(challenges, out_dir, stem, formats))
    paths: dict[str, Path] = {}
    for name, files in written.items():
        for file in files:
            if not file.name.endswith(".report.json"):
                paths[f"{name.removeprefix(stem + '_')}.{file.suffix[1:]}"] = Path(file)
    return paths


def _write_challenges(
    challenges: gpd.GeoDataFrame, out_dir: Path, stem: str, formats: tuple[str, ...]
) -> dict[str, list[Path]]:
    """Challenge candidates: the CSV (areas only, formula cells neutralised) and a GeoPackage."""
    from assetmap.outputs.challenges import write_challenge_csv
    from assetmap.outputs.export import export_layers

    name = f"{stem}_challenge_candidates"
    if "location_id" in challenges.columns:  # areas only, never a location
        challenges = challenges.drop(columns="location_id")
    files = export_layers({name: challenges}, out_dir,
                          formats=("gpkg",) if "gpkg" in formats else ())[name]
    if "csv" in formats:
        files.insert(0, write_challenge_csv(challenges, inside(out_dir, f"{name}.csv")))
    return {name: files}
