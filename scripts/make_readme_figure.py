"""Draw the README picture docs/img/ector_priority_map.png from the demo's own scored frame.

Run ``python scripts/make_readme_figure.py``: it scores the shipped Ector County data exactly as
``assetmap demo`` does (no network) and draws the print map at 150 dpi.
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


def main() -> Path:
    """Score the shipped demo data as ``assetmap demo`` does and draw the figure."""
    from assetmap.datasets import load_demo
    from assetmap.pipeline import demo_study
    from assetmap.pipeline.analyse import analyse

    sources = load_demo()
    results = analyse(sources, demo_study(OUT.parent).config)
    return make_figure(results.scored, context=sources.county)


if __name__ == "__main__":
    print(f"wrote {main()}")
