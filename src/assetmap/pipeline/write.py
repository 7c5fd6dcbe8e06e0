"""The write stage: the outputs a study asks for, one writer after the other, in one process.

In order: the print map (PNG, PDF, SVG: one drawing saved in each), the interactive HTML
map, the report (HTML, Markdown; it embeds the print map's PNG when there is one), then the
CSV and GeoPackage exports (:mod:`assetmap.outputs.study_exports`), then NTIA's BEAD
challenge-process files (``cai.csv``, ``unserved.csv``, ``underserved.csv``) in ``ntia/``
(:func:`assetmap.write_ntia_files`, under the study's rule set). Every file is written inside
the output folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from assetmap._i18n import messages
from assetmap.outputs.study_exports import inside, safe_stem, with_tracts, write_exports
from assetmap.pipeline.analyse import Results
from assetmap.pipeline.config import StudyConfig
from assetmap.pipeline.sources import Sources

__all__ = ["WrittenOutputs", "output_paths", "write_outputs"]

_PRINT = ("png", "pdf", "svg")
_EXPORTS = ("csv", "gpkg")
#: the folder of NTIA's files inside the output folder
NTIA_DIR = "ntia"


class WrittenOutputs(dict[str, Path]):
    """The files written (format -> path), and in ``details`` what writers reported of them."""

    def __init__(self, paths: dict[str, Path], details: dict[str, Any] | None = None) -> None:
        super().__init__(paths)
        self.details: dict[str, Any] = dict(details or {})


def output_paths(config: StudyConfig, *, formats: tuple[str, ...],
                 out_dir: Path) -> dict[str, Path]:
    """Return the file of each map and report format asked for (exports are named later).

    Examples
    --------
    >>> from assetmap.pipeline.config import parse_study
    >>> config = parse_study({"study": {"name": "Ector"}, "area": {"state": "TX"}})
    >>> {k: p.name for k, p in output_paths(config, formats=("html", "png", "csv"),
    ...                                     out_dir=Path("out")).items()}
    {'html': 'ector_equity_map.html', 'png': 'ector_priority_map.png'}
    """
    stem = safe_stem(config.study.get("name") or "study")
    paths: dict[str, Path] = {}
    if "html" in formats:
        paths["html"] = inside(out_dir, f"{stem}_equity_map.html")
    for ext in _PRINT:
        if ext in formats:
            paths[ext] = inside(out_dir, f"{stem}_priority_map.{ext}")
    for fmt, ext in (("report", "html"), ("markdown", "md")):
        if fmt in formats:
            paths[fmt] = inside(out_dir, f"{stem}_report.{ext}")
    return paths


def write_outputs(
    results: Results,
    sources: Sources,
    config: StudyConfig,
    *,
    formats: tuple[str, ...],
    out_dir: Path,
) -> WrittenOutputs:
    """Write the maps, report, exports and NTIA files named in ``formats`` into ``out_dir``.

    Parameters
    ----------
    results : Results
        The analysed frames (:func:`assetmap.pipeline.analyse.analyse`).
    sources : Sources
        The loaded sources (sites, schools, survey and the outline drawn on the maps).
    config : StudyConfig
        The study: its name (the file-name stem), title, plan reach and ``offline_html``.
    formats : tuple of str
        Any of ``html``, ``png``, ``pdf``, ``svg``, ``report``, ``markdown``, ``csv``,
        ``gpkg``, ``ntia``.
    out_dir : Path
        The output folder (created if missing).

    Returns
    -------
    WrittenOutputs
        Format (``<layer>.<extension>`` for an export, ``ntia.<file>`` for an NTIA file) ->
        file written; ``.details["ntia"]`` holds the NTIA files' row counts and rows left out.

    Examples
    --------
    Through a study (``Study.run`` calls this after the analysis)::

        import assetmap as am
        result = am.Study.from_toml("study.toml").run(steps=("html", "csv"))
        result.paths["html"]
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = safe_stem(config.study.get("name") or "study")
    language = config.outputs.get("language", "en")
    _ = messages(language)
    title = config.study.get("title") or _("{name}: connectivity gaps and nearby resources",
                                           name=stem)
    paths = output_paths(config, formats=formats, out_dir=out_dir)
    scored = results.scored
    printed = [paths[ext] for ext in _PRINT if ext in paths]
    if printed:
        from assetmap.outputs.static import print_map

        print_map(scored, printed[0], also=printed[1:], title=title, context=sources.outline,
                  language=language)
    if "html" in paths:
        from assetmap.outputs.interactive import equity_map

        equity_map(scored, title=title, language=language,
                   **_map_layers(results, sources, config)).save(str(paths["html"]))
    for key in ("report", "markdown"):
        if key in paths:
            from assetmap.outputs.report import write_report

            write_report(scored, paths[key], title=title, map_image=paths.get("png"),
                         plan=results.plan, schools=results.zones, sites=sources.sites,
                         whatif=results.whatif, evidence=results.evidence,
                         challenges=results.challenges, change=results.release_change,
                         language=language)
    exports = tuple(f for f in _EXPORTS if f in formats)
    if exports:
        paths.update(write_exports(layers=_layers(results, sources, stem),
                                   challenges=results.challenges, out_dir=out_dir,
                                   stem=stem, formats=exports))
    details: dict[str, Any] = {}
    if "ntia" in formats:
        files, details["ntia"] = _ntia(sources, config, out_dir)
        paths.update(files)
    return WrittenOutputs(paths, details)


def _ntia(sources: Sources, config: StudyConfig,
          out_dir: Path) -> tuple[dict[str, Path], dict[str, Any]]:
    """Write NTIA's files for the study's schools, partner sites and BDC locations."""
    from assetmap.bdc.service import service_levels
    from assetmap.outputs.ntia import write_ntia_files

    levels = None
    if sources.availability is not None:  # NTIA counts every BSL: codes R, B and X
        levels = service_levels(sources.availability, rules=config.rules, codes=None)
    if levels is None and sources.schools is None and sources.sites is None:
        return {}, {"files": {}, "note": "no BDC files, schools or partner sites: nothing to "
                                         "write"}
    written = write_ntia_files(inside(out_dir, NTIA_DIR), levels=levels, sites=sources.sites,
                               schools=sources.schools, rules=config.rules,
                               state=config.area["state"])
    report = written.report
    detail = {"dir": NTIA_DIR, "files": report["files"], "rejected": report.get("rejected", {}),
              "locations": report.get("locations"), "cai_types": report.get("cai_types"),
              "rules": report["rules"]["name"]}
    return {f"ntia.{name}": path for name, path in written.items()}, detail


def _map_layers(results: Results, sources: Sources, config: StudyConfig) -> dict[str, Any]:
    """Return the keyword arguments of :func:`assetmap.equity_map` besides scores and title."""
    return {
        "sites": sources.sites, "schools": sources.schools, "zones": results.zones,
        "district": sources.outline, "h3_cells": results.h3_cells, "survey": sources.survey,
        "plan": results.plan, "offline": bool(config.outputs["offline_html"]),
        "plan_reach_m": (float(config.plan["reach_m"]) if results.plan is not None else None),
        "evidence": results.evidence, "challenges": results.challenges,
        "change": results.change, "change_since": sources.previous_release_label,
    }


def _layers(results: Results, sources: Sources, stem: str) -> dict[str, pd.DataFrame]:
    """Return the export layers of a run, ``<stem>_<layer>`` -> frame, leaving out empty ones."""
    layers: dict[str, pd.DataFrame] = {f"{stem}_tracts": results.scored}
    for name, frame in (("school_zones", results.zones), ("plan", results.plan),
                        ("sites", results.site_connectivity), ("change", results.change),
                        ("change_schools", results.change_schools),
                        ("evidence", with_tracts(results.evidence, sources.tracts))):
        if frame is not None and len(frame):
            layers[f"{stem}_{name}"] = frame
    return layers
