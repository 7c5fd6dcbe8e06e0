"""The tract table the equity map embeds: names, popup values, survey rates and classes.

Each tract's properties are compact keys (``n`` name, ``g`` GEOID, ``f0``... formatted values);
the popup field spec names them with their labels and vintages. Suppressed survey cells say
so (with the suppression threshold when known) and get their own class (-2).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

import geopandas as gpd
import pandas as pd
from babel.dates import format_date

from assetmap._i18n import messages
from assetmap._report import get_report
from assetmap.errors import SchemaError
from assetmap.outputs import _plan_layers
from assetmap.outputs._classes import Classes, classify, column_info, format_value

__all__ = [
    "SURVEY_COLUMNS",
    "data_tables_html",
    "extra_tract_layers",
    "merge_survey",
    "release_label",
    "survey_text",
    "theme_classes",
    "tract_table",
]

SURVEY_COLUMNS = ["survey_no_internet_rate", "survey_limited_rate", "survey_no_device_rate"]


def _tract_names(frame: pd.DataFrame, language: str = "en") -> pd.Series:
    """Return each tract's name; TIGER's "Census Tract N" is said in ``language``."""
    _ = messages(language)

    def census(name: Any) -> Any:
        return name if name is pd.NA else _("Census Tract {name}", name=name)

    if "NAMELSAD" in frame:
        names = frame["NAMELSAD"].astype("string")
        number = names.str.extract(r"^Census Tract (.+)$", expand=False)
        names = number.map(census).astype("string").fillna(names)
        return names.fillna(frame.get("GEOID", ""))
    if "NAME" in frame:
        return frame["NAME"].astype("string").map(census).astype("string")
    if "GEOID" in frame:
        return frame["GEOID"].astype("string").map(
            lambda g: g if g is pd.NA else _("Tract {geoid}", geoid=g)).astype("string")
    return pd.Series([_("Area {number}", number=i + 1) for i in range(len(frame))],
                     index=frame.index)


def survey_text(frame: pd.DataFrame, min_responses: int | None, *,
                language: str = "en") -> str:
    """Return what a suppressed survey cell says, naming the threshold when it is known."""
    if min_responses is None:
        for key in ("min_responses", "suppression_min_responses", "suppress_below"):
            value = get_report(frame).get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                min_responses = int(value)
                break
    _ = messages(language)
    if min_responses is None:
        return _("suppressed (too few responses)")
    return _("suppressed (fewer than {count} responses)", count=_.number(min_responses))


def merge_survey(gdf: gpd.GeoDataFrame, survey: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Return the tracts with the survey's rates (by GEOID) in place of their own."""
    if survey is None:
        return gdf
    if "GEOID" not in survey or "GEOID" not in gdf:
        raise SchemaError("survey= must be keyed by GEOID (aggregated by tract) to map it")
    keep = ["GEOID", *[c for c in [*SURVEY_COLUMNS, "responses", "suppressed"] if c in survey]]
    base = gdf.drop(columns=[c for c in keep[1:] if c in gdf])
    return base.merge(pd.DataFrame(survey)[keep], on="GEOID", how="left")


def _display(frame: pd.DataFrame, column: str, suppressed_text: str,
             language: str = "en") -> pd.Series:
    """Return a column formatted for people (suppressed survey cells say so)."""
    _ = messages(language)
    if column == "unreliable":
        flags = frame[column].astype("boolean")
        caution = _("some inputs have CV > 0.30: use with caution")
        return flags.map({True: caution, False: None})
    if column == "missing_inputs":
        return frame[column].astype("string").replace("", pd.NA)
    unit = column_info(column).unit
    text = pd.Series([format_value(v, unit, language=language) for v in frame[column]],
                     index=frame.index)
    if column in SURVEY_COLUMNS and "suppressed" in frame:
        text = text.mask(frame["suppressed"].fillna(False).astype(bool), suppressed_text)
    return text


def tract_table(
    gdf: gpd.GeoDataFrame, columns: list[str], vintages: dict[str, str], suppressed_text: str,
    *, language: str = "en",
) -> tuple[pd.DataFrame, list[list[str]], dict[str, str]]:
    """Return (compact property table, popup field spec, column -> property key)."""
    _ = messages(language)
    props = pd.DataFrame({"n": _tract_names(gdf, language).to_numpy()}, index=gdf.index)
    if "GEOID" in gdf:
        props["g"] = gdf["GEOID"].astype("string").to_numpy()
    fields: list[list[str]] = [["g", "GEOID", ""]] if "g" in props else []
    keys: dict[str, str] = {}
    for i, column in enumerate(c for c in columns if c in gdf):
        key = f"f{i}"
        keys[column] = key
        props[key] = _display(gdf, column, suppressed_text, language).to_numpy()
        label = _("Reliability") if column == "unreliable" else _(column_info(column).label)
        if column == "missing_inputs":
            label = _("Missing inputs")
        fields.append([key, label, _.recorded(vintages.get(column, ""))])
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
    source: str, language: str = "en",
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
    _ = messages(language)
    keys = [f[0] for f in fields if f[0] in props]
    labels = [_("Area"), *[f[1] for f in fields if f[0] in props]]
    caption = _("Areas ({count}): the values every map layer shows", count=_.number(len(props)))
    tables = [_table(caption, [], labels, keys=keys, source=source)]
    for layer in point_layers:
        features = json.loads(layer.data)["features"]
        point_fields = [f for f in json.loads(layer.fields_js) if f[0] != "n"]
        rows = [(f["properties"].get("n"),
                 [f["properties"].get("fx"), *[f["properties"].get(k) for k, *_ in point_fields]])
                for f in features]
        tables.append(_table(f"{layer.layer_name} ({len(rows)})", rows,
                             [_("Name"), _("Note"), *[f[1] for f in point_fields]]))
    summary, label = escape(_("Show as table")), escape(_("Map data as tables"), quote=True)
    return (f'<details class="am-data"><summary>{summary}</summary><div class="am-data-panel" '
            f'tabindex="0" role="region" aria-label="{label}">' + "".join(tables)
            + "</div></details>")


def release_label(since: str, *, language: str = "en") -> str:
    """Return a release named "Month YYYY" in ``language`` (other labels stay as given).

    Examples
    --------
    >>> release_label("December 2024", language="es"), release_label("v2", language="es")
    ('diciembre de 2024', 'v2')
    """
    _ = messages(language)
    if _.language == "en":
        return since
    try:
        day = dt.datetime.strptime(since.strip(), "%B %Y").date()
    except ValueError:
        return since
    return format_date(day, format="LLLL 'de' y", locale=_.locale)


def extra_tract_layers(
    gdf: gpd.GeoDataFrame,
    props: pd.DataFrame,
    *,
    interventions: bool,
    evidence: pd.DataFrame | None,
    change: pd.DataFrame | None,
    change_since: str | None,
    suppressed_text: str,
    language: str = "en",
) -> list[_plan_layers.TractLayer]:
    """Add the intervention, evidence and change properties to ``props``; return the layers."""
    _ = messages(language)
    layers = []
    if interventions:
        layer = _plan_layers.intervention_layer(gdf, props, language=language)
        if layer is not None:
            layers.append(layer)
    for name, frame in (("evidence", evidence), ("change", change)):
        if frame is not None and len(frame) and ("GEOID" not in frame or "GEOID" not in gdf):
            raise SchemaError(f"equity_map: {name}= and the scored frame must both have GEOID")
    if evidence is not None and len(evidence):
        layers.append(_plan_layers.evidence_layer(gdf, props, evidence, language=language,
                                                  suppressed_text=suppressed_text))
    if change is not None and len(change):
        since = (release_label(change_since, language=language) if change_since
                 else _("the previous release"))
        layers.append(_plan_layers.change_layer(gdf, props, change, since=since,
                                                language=language))
    return layers
