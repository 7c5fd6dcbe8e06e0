"""Grant writer: the print map, the report, and the headline numbers for a proposal.

    python examples/grant_writer.py [OUT_DIR]   (default: out/grant; no network)

Writes a 300 dpi letter-size PNG and a PDF of the priority map (for the proposal's figure),
the self-contained HTML report, and prints the headline figures with their sources, so every
number quoted can be traced. The Ector County demo's location-level broadband layer, partner
list and survey are illustrative: quote the method, not these figures, until you run it on
your own district's data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import assetmap as am


def headline_numbers(scored) -> dict[str, float]:
    """The figures a proposal usually quotes, from the scored tracts' documented columns."""
    households = scored["households"].sum()
    no_fiber = scored["fiber_share"].eq(0)
    return {
        "tracts": len(scored),
        "households": households,
        "households_in_tracts_without_fiber": scored.loc[no_fiber, "households"].sum(),
        "households_without_internet_acs": (scored["households"]
                                            * scored["no_internet_share"]).sum(),
        "locations": scored["locations"].sum(),
        "unserved_locations": scored["unserved"].sum(),
        "underserved_locations": scored["underserved"].sum(),
    }


def main(out_dir: str = "out/grant") -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    demo = am.load_demo()
    scored = am.score_tracts(
        demo.tracts, service=demo.service, acs=demo.acs, sites=demo.sites,
        survey=demo.survey, rurality=demo.rurality, schools=demo.schools, points=demo.points,
    )
    zones = am.rollup_to_schools(scored, demo.schools, points=demo.points)
    title = "Ector County, Texas: where families are cut off from the internet"
    paths = {
        "png": am.print_map(scored, out / "priority_map.png", dpi=300, paper="letter",
                            context=demo.district, title=title),
        "pdf": am.print_map(scored, out / "priority_map.pdf", paper="letter",
                            context=demo.district, title=title),
    }
    paths["report"] = am.write_report(scored, out / "report.html", schools=zones,
                                      sites=demo.sites, map_image=paths["png"], title=title)

    n = headline_numbers(scored)
    print(f"{title}\n")
    print(f"- {n['households_in_tracts_without_fiber']:,.0f} of {n['households']:,.0f} "
          f"households live in the {int(scored['fiber_share'].eq(0).sum())} of {n['tracts']} "
          "tracts where no location has a fiber offer.")
    print(f"- An estimated {n['households_without_internet_acs']:,.0f} households have no "
          "internet subscription at home (ACS).")
    print(f"- {n['unserved_locations']:,.0f} residential locations are unserved and "
          f"{n['underserved_locations']:,.0f} underserved of {n['locations']:,.0f} (NTIA BEAD: "
          "no reliable 25/3 Mbps; no reliable 100/20 Mbps).")
    top = scored.sort_values("priority_rank").head(3)
    print("- Highest priority: " + "; ".join(
        f"{r.NAMELSAD} ({r.priority:.0f}/100)" for r in top.itertuples()))
    rep = am.get_report(scored)
    if rep.get("illustrative"):
        print("\nNote: some inputs are ILLUSTRATIVE (synthetic); see the report's notice.")
    print("\nSources:")
    for source in rep.get("sources", []):
        print(f"  - {source.get('name')} ({source.get('vintage', 'vintage not stated')})")
    for key, path in paths.items():
        print(f"{key}: {path}")
    return paths


if __name__ == "__main__":
    main(*sys.argv[1:2])
