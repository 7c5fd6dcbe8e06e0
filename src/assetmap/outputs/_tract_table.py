"""The tract table the equity map embeds: names, popup values, survey rates and classes.

Each tract's properties are compact keys (``n`` name, ``g`` GEOID, ``f0``... formatted values);
the popup field spec names them with their labels and vintages. Suppressed survey cells say
so (with the suppression threshold when known) and get their own class (-2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

import geopandas as gpd
import pandas as pd

from assetmap._report import get_report
from assetmap.errors import SchemaError
from assetmap.outputs._classes import Classes, classify, column_info, format_value

__all__ = [
    "SURVEY_COLUMNS",
    "data_tables_html",
    "merge_survey",
    "survey_text",
    "theme_classes",
    "tract_table",
]

SURVEY_COLUMNS = ["survey_no_internet_rate", "survey_limited_rate", "survey_no_device_rate"]


def _tract_names(frame: pd.DataFrame) -> pd.Series:
    if "NAMELSAD" in frame:
        return frame["NAMELSAD"].astype("string").fillna(frame.get("GEOID", ""))
    if "NAME" in frame:
        return "Census Tract " + frame["NAME"].astype("string")
    if "GEOID" in frame:
        return "Tract " + frame["GEOID"].astype("string")
    return pd.Series([f"Area {i + 1}" for i in range(len(frame))], index=frame.index)


def survey_text(frame: pd.DataFrame, min_responses: int | None) -> str:
    """Return what a suppressed survey cell says, naming the threshold when it is known."""
    if min_responses is None:
        for key in ("min_responses", "suppression_min_responses", "suppress_below"):
            value = get_report(frame).get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                min_responses = int(value)
                break
    if min_responses is None:
        return "suppressed (too few responses)"
    return f"suppressed (fewer than {min_responses} responses)"


def merge_survey(gdf: gpd.GeoDataFrame, survey: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Return the tracts with the survey's rates (by GEOID) in place of their own."""
    if survey is None:
        return gdf
    if "GEOID" not in survey or "GEOID" not in gdf:
        raise SchemaError("survey= must be keyed by GEOID (aggregated by tract) to map it")
    keep = ["GEOID", *[c for c in [*SURVEY_COLUMNS, "responses", "suppressed"] if c in survey]]
    base = gdf.drop(columns=[c for c in keep[1:] if c in gdf])
    return base.merge(pd.DataFrame(survey)[keep], on="GEOID", how="left")


def _display(frame: pd.DataFrame, column: str, suppressed_text: str) -> pd.Series:
    """Return a column formatted for people (suppressed survey cells say so)."""
    if column == "unreliable":
        flags = frame[column].astype("boolean")
        return flags.map({True: "some inputs have CV > 0.30: use with caution", False: None})
    if column == "missing_inputs":
        return frame[column].astype("string").replace("", pd.NA)
    unit = column_info(column).unit
    text = pd.Series([format_value(v, unit) for v in frame[column]], index=frame.index)
    if column in SURVEY_COLUMNS and "suppressed" in frame:
        text = text.mask(frame["suppressed"].fillna(False).astype(bool), suppressed_text)
    return text


def tract_table(
    gdf: gpd.GeoDataFrame, columns: list[str], vintages: dict[str, str], suppressed_text: str
) -> tuple[pd.DataFrame, list[list[str]], dict[str, str]]:
    """Return (compact property table, popup field spec, column -> property key)."""
    props = pd.DataFrame({"n": _tract_names(gdf).to_numpy()}, index=gdf.index)
    if "GEOID" in gdf:
        props["g"] = gdf["GEOID"].astype("string").to_numpy()
    fields: list[list[str]] = [["g", "GEOID", ""]] if "g" in props else []
    keys: dict[str, str] = {}
    for i, column in enumerate(c for c in columns if c in gdf):
        key = f"f{i}"
        keys[column] = key
        props[key] = _display(gdf, column, suppressed_text).to_numpy()
        label = "Reliability" if column == "unreliable" else column_info(column).label
        if column == "missing_inputs":
            label = "Missing inputs"
        fields.append([key, label, vintages.get(column, "")])
    return props, fields, keys


def theme_classes(
    gdf: gpd.GeoDataFrame, column: str, *, scheme: str, k: int, bins: Any
) -> Classes:
    """Classify a theme column; suppressed survey cells get class -2."""
    classes = classify(gdf[column], column=column, scheme=scheme, k=k, bins=bins)
    if column in SURVEY_COLUMNS and "suppressed" in gdf:
        suppressed = gdf["suppressed"].fillna(False).astype(bool).to_numpy()
        classes.idx[suppressed] = -2
    return classes


def _table(caption: str, rows: Iterable[tuple[Any, Sequence[Any]]], labels: Sequence[str],
           *, keys: Sequence[str] = (), source: str = "") -> str:
    """Return one escaped HTML table: a header row, then a row header and cells per row.

    With ``source`` (the variable of the map's embedded tract data) the body is left empty and
    filled in the browser when the table is first shown, one row per feature, a cell per key.
    """
    def text(value: Any) -> str:
        return "" if value is None or value is pd.NA or value != value else escape(str(value))

    head = "".join(
        f'<th scope="col"{f" data-am-key={escape(key, quote=True)!r}" if key else ""}>'
        f"{escape(label)}</th>"
        for label, key in zip(labels, ["", *keys] if keys else [""] * len(labels), strict=True)
    )
    body = "".join(
        f'<tr><th scope="row">{text(name)}</th>{"".join(f"<td>{text(v)}</td>" for v in cells)}'
        "</tr>"
        for name, cells in rows
    )
    data = f' data-am-source="{escape(source, quote=True)}"' if source else ""
    return (f"<table{data}><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


def data_tables_html(
    props: pd.DataFrame, fields: list[list[str]], point_layers: Iterable[Any] = (), *,
    source: str,
) -> str:
    """Return the map's text alternative: every area and every value it shows, every point.

    A ``<details>`` element ("Show as table") holding one table of the tracts (each tract's
    popup values, which include every theme the choropleth draws; its rows are made in the
    browser from the embedded data ``source`` when first shown, so a large map costs no
    bytes) and one table per point layer (:class:`~assetmap.outputs._layers.PointLayer`:
    sites, schools, proposed sites).

    Examples
    --------
    >>> props = pd.DataFrame({"n": ["Tract 1"], "f0": ["42"]})
    >>> html = data_tables_html(props, [["f0", "Priority", ""]], source="data_1")
    >>> "<summary>Show as table</summary>" in html and "data-am-key='f0'" in html
    True
    """
    keys = [f[0] for f in fields if f[0] in props]
    labels = ["Area", *[f[1] for f in fields if f[0] in props]]
    tables = [_table(f"Areas ({len(props)}): the values every map layer shows", [], labels,
                     keys=keys, source=source)]
    for layer in point_layers:
        features = json.loads(layer.data)["features"]
        point_fields = [f for f in json.loads(layer.fields_js) if f[0] != "n"]
        rows = [(f["properties"].get("n"),
                 [f["properties"].get("fx"), *[f["properties"].get(k) for k, *_ in point_fields]])
                for f in features]
        tables.append(_table(f"{layer.layer_name} ({len(rows)})", rows,
                             ["Name", "Note", *[f[1] for f in point_fields]]))
    return ('<details class="am-data"><summary>Show as table</summary><div class="am-data-panel" '
            'tabindex="0" role="region" aria-label="Map data as tables">'
            + "".join(tables) + "</div></details>")
