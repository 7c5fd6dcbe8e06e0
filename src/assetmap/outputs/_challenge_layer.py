"""The equity map's challenge-candidate layer: one H3 res-8 polygon per area, by evidence strength.

The areas are embedded once and delta-encoded like the other polygon layers; the three strength
classes are named in the legend, and hatched and numbered when their colours cannot reach 3:1
contrast (:func:`assetmap.outputs._legend.class_marks`). Each area's evidence line is written in
the reader's language from its tract's counts
(:func:`assetmap.analysis._evidence_parts.evidence_texts`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from assetmap._i18n import N_, messages
from assetmap._report import get_report
from assetmap.outputs._classes import format_value
from assetmap.outputs._geometry import feature_collection
from assetmap.outputs._layers import GeoJsonData, ThemeLayer
from assetmap.outputs._legend import LegendSection, class_marks, numbered_values
from assetmap.outputs._plan_layers import evidence_lines
from assetmap.outputs._points import claims_text
from assetmap.outputs._rules_text import mbps, rules_of, rules_title

__all__ = ["STRENGTH_CLASSES", "STRENGTH_COLORS", "STRENGTH_LABELS", "add_challenge_layer"]


def _evidence_text(first: pd.DataFrame, evidence: pd.DataFrame | None, *,
                   language: str = "en") -> np.ndarray:
    """Return each area's evidence line: its tract's, in ``language``, with ``evidence``."""
    recorded = first.get("evidence_summary", pd.Series(None, index=first.index)).astype(
        "string").to_numpy(dtype=object)
    if evidence is None or not len(evidence) or "GEOID" not in evidence \
            or "evidence_area" not in first:
        return recorded
    lines = evidence_lines(evidence, rules_of(evidence), language=language)
    found = first["evidence_area"].astype(str).map(lines).to_numpy(dtype=object)
    return np.where(pd.isna(found) | (found == ""), recorded, found)


#: Evidence-strength classes of the challenge layer: upper bounds, labels, colours.
STRENGTH_CLASSES = [25.0, 50.0]
STRENGTH_LABELS = [N_("weaker evidence (strength under 25)"), N_("moderate (25 to under 50)"),
                   N_("stronger evidence (50 or more)")]
STRENGTH_COLORS = ["#F0E442", "#E69F00", "#D55E00"]


def add_challenge_layer(m: Any, challenges: pd.DataFrame, sections: list[LegendSection],
                        *, evidence: pd.DataFrame | None = None, precision: int = 5,
                        language: str = "en") -> list[str]:
    """Add the challenge candidates (one polygon per area); return illustrative layer names.

    With ``evidence`` (``claims_vs_evidence`` by tract), each area's evidence line is written
    in ``language`` from its tract's counts; without it, the line recorded with the candidates
    is shown as it is.
    """
    if challenges is None or not len(challenges):
        return []
    _ = messages(language)
    first = challenges.drop_duplicates("area_id").reset_index(drop=True)
    claims = claims_text(pd.DataFrame(challenges), language=language).reindex(
        first["area_id"]).to_numpy()
    strength = pd.to_numeric(first["evidence_strength"], errors="coerce")
    klass = np.searchsorted(STRENGTH_CLASSES, strength.fillna(0).to_numpy(), side="right")
    props = pd.DataFrame({
        "n": [_("Challenge candidate #{rank}", rank=int(r)) for r in first["rank"]],
        "c0": klass,
        "f0": [format_value(v, "index", language=language) for v in strength],
        "f1": first["area_type"].map({"h3": _("H3 res-8 cell"), "block": _("Census block")})
        .fillna(first["area_type"].astype(str)) + " " + first["area_id"].astype(str),
        "f2": claims,
        "f3": [format_value(v, "count", language=language)
               for v in first.get("locations_in_area", np.nan) * np.ones(len(first))],
        "f4": _evidence_text(first, evidence, language=language),
        "f5": first.get("evidence_area", pd.Series(None, index=first.index)).astype(
            "string").to_numpy(dtype=object),
    })
    marks = class_marks(STRENGTH_COLORS)  # hatched and numbered when colour is not enough
    if marks:
        props["f0"] = numbered_values(props["f0"], klass, language=language)
    data = GeoJsonData(feature_collection(first.geometry, props, encode_precision=precision),
                       precision=precision)
    m.add_child(data)
    rules = rules_of(challenges)
    ids, defs = marks if marks else (None, "")
    layer = ThemeLayer(
        data, name=_("Challenge candidates"), key="c0", value_key="f0",
        label=_("Evidence strength"), colors=STRENGTH_COLORS, css_class="am-challenge",
        fields=[["f1", _("Area"), ""], ["f0", _("Evidence strength (0-100)"), ""],
                ["f2", _("BDC claims (served at {speed})", speed=mbps(rules.served)), ""],
                ["f3", _("Locations in area"), ""],
                ["f4", _("Evidence"), ""], ["f5", _("Evidence area (tract)"), ""]],
        fill_opacity=0.8, patterns=ids, defs=defs,
    )
    m.add_child(layer)
    shown = [i for i in reversed(range(len(STRENGTH_LABELS))) if (klass == i).any()]
    swatches = [(STRENGTH_COLORS[i], _(STRENGTH_LABELS[i]) + " "
                 + _.plural("({count} cell)", "({count} cells)", int((klass == i).sum())))
                for i in shown]
    sections.append(LegendSection(
        layer.get_name(), _("Challenge candidates (H3 cells)"), show=False,
        extra_swatches=swatches, patterns=ids, numbers=shown,
        notes=[_("Areas only: no household or location is listed"),
               rules_title(rules, language=language),
               _("How to file a challenge: {page}", page="docs/challenges.md")],
    ))
    return [_("challenge candidates")] if get_report(challenges).get("illustrative") else []
