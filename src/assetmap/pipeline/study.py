"""A reproducible study: study file -> loaded sources -> scored frames -> outputs + manifest.

A run calls the stages in order, each a plain function in this package: load
(:mod:`~assetmap.pipeline.load`), analyse (:mod:`~assetmap.pipeline.analyse`), write
(:mod:`~assetmap.pipeline.write`), then the manifest (:mod:`~assetmap.pipeline.manifest`).
A district describes its study once in a TOML file (``assetmap init`` writes a commented one)
and rebuilds it every BDC release::

    import assetmap as am
    result = am.Study.from_toml("study.toml").run()
    result.paths["html"]   # the interactive map

Every run writes ``manifest.json`` beside its outputs: the study file, the sources and vintages,
the versions of assetmap and its main dependencies, and a SHA-256 of every input file, so a
result can be reproduced and checked.
"""

from __future__ import annotations

import glob
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assetmap._i18n import check_language, messages
from assetmap.errors import ConfigError
from assetmap.pipeline.analyse import Results, analyse, check_rules
from assetmap.pipeline.config import StudyConfig, parse_study
from assetmap.pipeline.downloads import downloaded_paths
from assetmap.pipeline.fcc import fcc_files
from assetmap.pipeline.load import fetch_sources, load_sources
from assetmap.pipeline.manifest import input_files, write_manifest
from assetmap.pipeline.sources import Sources
from assetmap.pipeline.write import write_outputs

__all__ = ["Study", "StudyResult", "demo_study", "run_demo"]


@dataclass
class StudyResult:
    """What a run produced: the analysed frames and the files written."""

    sources: Sources
    results: Results
    paths: dict[str, Path] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def scored(self) -> Any:
        """The scored tracts (GeoDataFrame)."""
        return self.results.scored


@dataclass(frozen=True)
class Study:
    """A study: an area, its sources, weights and outputs, read from a study file.

    Examples
    --------
    >>> study = Study.from_dict({"area": {"state": "TX", "counties": ["Ector"]}})
    >>> study.config.area["state"]
    'TX'
    """

    config: StudyConfig

    @classmethod
    def from_toml(cls, path: str | Path) -> Study:
        r"""Read and validate a study file.

        Raises
        ------
        ConfigError
            If the file is missing, is not TOML, or has a bad key or value (named).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "study.toml").write_text("[area]\nstate = 'TX'\n")
        >>> Study.from_toml(d / "study.toml").config.outputs["dir"] == str(d / "out")
        True
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"study file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
        try:
            return cls(parse_study(data, path=path))
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, path: Path | None = None) -> Study:
        """Build a study from an already parsed study file (a dict)."""
        return cls(parse_study(data, path=path))

    def with_output_dir(self, out_dir: str | Path) -> Study:
        """Return the same study writing into another folder."""
        outputs = {**self.config.outputs, "dir": str(Path(out_dir).resolve())}
        return Study(replace(self.config, outputs=outputs))

    def with_language(self, language: str) -> Study:
        """Return the same study writing its outputs in another language (``"en"``, ``"es"``)."""
        outputs = {**self.config.outputs, "language": check_language(language)}
        return Study(replace(self.config, outputs=outputs))

    def bdc_files(self) -> list[str]:
        """Expand the study's BDC file list (globs relative to the study file).

        With ``[bdc] files = "fcc"``: the files fetched from the FCC Public Data API (in the
        cache; downloaded now if they were not fetched).
        """
        if self.config.from_fcc:
            return fcc_files(self.config)[0]
        return _expand(self.config.bdc["files"])

    def fetch(self) -> list[Path]:
        """Download and cache every remote source, for later offline runs."""
        return fetch_sources(self.config)

    def load(self) -> Sources:
        """Load every source named by the study."""
        if self.config.from_fcc:
            files, record = fcc_files(self.config)
            return load_sources(self.config, bdc_files=files, bdc_record=record)
        return load_sources(self.config, bdc_files=self.bdc_files())

    def analyse(self, sources: Sources) -> Results:
        """Score, roll up and plan from loaded sources."""
        return analyse(sources, self.config)

    def run(self, *, steps: tuple[str, ...] | None = None) -> StudyResult:
        """Load, analyse and write the outputs named in the study file, with a manifest.

        Parameters
        ----------
        steps : tuple of str, optional
            Output formats to write (default: the study file's ``[outputs] formats``).
        """
        return self.run_on(self.load(), steps=steps)

    def run_on(self, sources: Sources, *, steps: tuple[str, ...] | None = None) -> StudyResult:
        """Analyse already loaded sources, write the outputs and the manifest.

        Parameters
        ----------
        sources : Sources
            Loaded sources (:meth:`load`, or :func:`assetmap.load_demo`).
        steps : tuple of str, optional
            Output formats to write (default: the study file's ``[outputs] formats``).
        """
        formats = tuple(steps) if steps is not None else tuple(self.config.outputs["formats"])
        out_dir = self.config.out_dir
        check_rules(sources, self.config.rules)
        results = analyse(sources, self.config)
        written = write_outputs(results, sources, self.config, formats=formats, out_dir=out_dir)
        download = sources.extras.get("bdc_download")
        fetched = [f["path"] for f in download["files"]] if isinstance(download, dict) else []
        manifest = write_manifest(self.config, sources, results, written,
                                  inputs=input_files(self.config, bdc_files=fetched,
                                                     downloaded=downloaded_paths(
                                                         sources.extras.get("downloads"))),
                                  details=written.details)
        paths = dict(written)
        paths["manifest"] = out_dir / "manifest.json"
        return StudyResult(sources=sources, results=results, paths=paths, manifest=manifest)


def _expand(patterns: list[str]) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        if "://" in pattern:
            files.append(pattern)
            continue
        matches = sorted(glob.glob(pattern))  # noqa: PTH207 - patterns may be absolute
        if not matches:
            raise ConfigError(f"[bdc] files: nothing matches {pattern!r}")
        files.extend(matches)
    return files


def demo_study(out_dir: str | Path, *, language: str = "en") -> Study:
    """Return the study that the shipped Ector County demo runs."""
    _ = messages(language)
    data = {
        "study": {
            "name": "ector_county",
            "title": _("{county}, {state}: where families are cut off, and what is near them",
                       county=_("Ector County"), state="Texas"),
        },
        "area": {"state": "TX", "counties": ["Ector"], "district": "4818000"},
        "plan": {"k": 3, "reach_m": 3200.0},
        "outputs": {"dir": str(Path(out_dir).resolve()), "language": _.language},
    }
    return Study.from_dict(data)


def run_demo(out_dir: str | Path = "out/ector", *, language: str = "en") -> StudyResult:
    """Build the Ector County demo from the shipped data (no network).

    Examples
    --------
    From a shell, ``assetmap demo --out out/ector`` (``--language es`` for Spanish); in
    Python::

        from assetmap.pipeline import run_demo
        run_demo("out/ector", language="es").paths["html"]
    """
    from assetmap.datasets import load_demo

    return demo_study(out_dir, language=language).run_on(load_demo())
