"""Analyst: the Python API, frames in and frames out.

Load the shipped Ector County bundle (or your own frames: every loader returns a plain
(Geo)DataFrame), score the tracts with your weights, roll them up to schools, and keep the
results as frames: write them as CSV/GeoPackage for the next tool.

    python examples/analyst.py [OUT_DIR]        (default: out/analyst; no network)
"""

from __future__ import annotations

import sys
from pathlib import Path

import assetmap as am


def main(out_dir: str = "out/analyst") -> dict[str, list[Path]]:
    demo = am.load_demo()  # .tracts .service .acs .sites .survey .schools .rurality .points

    # Frames in: any of these can be your own frame with the documented columns
    # (docs/data-model.md), e.g. sites = am.read_partner_sites("partners.xlsx", area=tracts).
    scored = am.score_tracts(
        demo.tracts, service=demo.service, acs=demo.acs, sites=demo.sites,
        survey=demo.survey, rurality=demo.rurality, schools=demo.schools, points=demo.points,
        weights={"infrastructure_gap": 0.4, "adoption_gap": 0.3, "need": 0.2,
                 "resource_gap": 0.1},
    )
    stable = am.weight_sensitivity(scored, top_n=5, draws=200, seed=0)
    zones = am.rollup_to_schools(scored, demo.schools, points=demo.points)
    actions = am.recommend_interventions(scored)

    # Frames out: plain pandas from here on.
    top = (
        stable.join(actions)
        .sort_values("priority_rank")
        .loc[:, ["GEOID", "NAMELSAD", "priority", "priority_rank", "top_n_stability",
                 "unserved_share", "fiber_share", "no_internet_share", "intervention"]]
    )
    print(top.head(10).to_string(index=False))
    print("\nweights used:", scored.attrs["assetmap"]["score_spec"]["priority"]["weights"])
    print("illustrative inputs:", am.get_report(scored).get("illustrative"))

    written = am.export_layers(
        {"tracts": stable.join(actions), "school_zones": zones}, out_dir, formats=("csv", "gpkg")
    )
    for name, files in written.items():
        print(f"{name}: {', '.join(str(f) for f in files)}")
    return written


if __name__ == "__main__":
    main(*sys.argv[1:2])
