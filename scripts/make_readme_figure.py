"""Draw the README picture docs/img/ector_priority_map.png from a scored frame.

The lead wires this to the demo: ``make_figure(scored, context=county)``. It only calls
print_map; the scored frame (and its sources, vintages and illustrative flag) is passed in.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from assetmap.outputs.static import print_map

OUT = Path(__file__).resolve().parents[1] / "docs" / "img" / "ector_priority_map.png"


def make_figure(
    scored: gpd.GeoDataFrame,
    *,
    context: gpd.GeoDataFrame | None = None,
    path: Path = OUT,
    dpi: int = 150,
) -> Path:
    """Write the README figure (letter landscape, top five tracts labelled) and return its path."""
    return print_map(
        scored,
        path,
        title="Ector County: where families are cut off, by tract",
        label_top=5,
        context=context,
        dpi=dpi,
    )


if __name__ == "__main__":
    raise SystemExit(
        "call make_figure(scored, context=county) with the demo's scored frame "
        "(see assetmap.load_demo and score_tracts)"
    )
