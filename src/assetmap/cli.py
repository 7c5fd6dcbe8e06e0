"""The ``assetmap`` command line: argument parsing and exit codes only.

Commands
--------
``assetmap demo [--out DIR]``
    Build the Ector County, Texas demo from the shipped data (no network).
``assetmap init --state STATE --county COUNTY [--district LEAID] [--out study.toml]``
    Write a commented study file. ``--district`` (the 7-digit NCES LEAID) is checked against
    NCES EDGE (downloaded, cached), which fills in the state, county and district name not
    given.
``assetmap fetch study.toml``
    Download and cache every remote source, for later offline runs (with ``[bdc] files =
    "fcc"``: the state's BDC files from the FCC Public Data API, and their record; with
    ``[sources] schools = "nces"`` or ``ookla_year``: the NCES EDGE school file, Ookla's tiles).
``assetmap build study.toml [--out DIR]``
    Load, score, plan and write every output named in the study file, with a manifest.
``assetmap score | map | report study.toml [--out DIR]``
    One step: the scored tables, the maps, or the report.

Exit codes: 0 success; 2 bad input or usage (the message names the file, key, row or column);
3 network or download failure (including offline mode with an empty cache); 4 a privacy rule
refused an output; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap._i18n import LANGUAGES, messages
from assetmap.errors import (
    AssetmapError,
    ConfigError,
    DownloadError,
    GeoidError,
    PrivacyError,
    SchemaError,
)

if TYPE_CHECKING:
    from assetmap.pipeline.analyse import Results

__all__ = ["main"]

EXIT_OK, EXIT_UNEXPECTED, EXIT_INPUT, EXIT_NETWORK, EXIT_PRIVACY = 0, 1, 2, 3, 4
#: Exit code when standard output was closed by its reader (128 + SIGPIPE, as shells use).
EXIT_BROKEN_PIPE = 141


class _VersionAction(argparse.Action):
    """``--version``: looks the installed version up only when asked (it costs ~0.1 s)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:  # noqa: A002
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from assetmap import __version__

        sys.stdout.write(f"assetmap {__version__}\n")  # where argparse's own action writes
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assetmap",
        description="Map where families are cut off from the internet and what nearby could help.",
        epilog="Start with 'assetmap demo', or 'assetmap init --state STATE --county COUNTY' "
               "(or --district LEAID).",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--offline", action="store_true", help="use only the download cache")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors")
    common.add_argument("--offline", action="store_true", default=argparse.SUPPRESS,
                        help="use only the download cache")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", parents=[common],
                          help="build the Ector County, TX demo from shipped data")
    demo.add_argument("--out", default="out/ector", help="output folder (default: out/ector)")
    demo.add_argument("--language", default="en", choices=sorted(LANGUAGES),
                      help="language of the map, print map, report and summary (default: en)")

    init = sub.add_parser("init", parents=[common], help="write a commented study file")
    init.add_argument("--state", help="a state name, its USPS code or its 2-digit FIPS code "
                      "(with --district: optional, taken from NCES)")
    init.add_argument("--county", help="a county name or its 3- or 5-digit FIPS code")
    init.add_argument("--district", help="NCES LEAID of the school district (7 digits); "
                      "checked against NCES EDGE, which fills in state, county and name")
    init.add_argument("--school-year", help="school year of the NCES EDGE district file "
                      "(default: the newest, 2024-25)")
    init.add_argument("--out", default="study.toml", help="file to write (default: study.toml)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")

    for name, text in (
        ("fetch", "download and cache every remote source of a study"),
        ("build", "load, score, plan and write every output of a study"),
        ("score", "write the scored tables (CSV and GeoPackage)"),
        ("map", "write the interactive map and the print map"),
        ("report", "write the grant-ready report"),
    ):
        cmd = sub.add_parser(name, parents=[common], help=text)
        cmd.add_argument("study", help="the study file (TOML)")
        if name != "fetch":
            cmd.add_argument("--out", help="output folder (default: the study file's)")
            cmd.add_argument("--language", choices=sorted(LANGUAGES),
                             help="language of the outputs (default: the study file's "
                                  "[outputs] language, else en)")
    return parser


_STEPS = {
    "score": ("csv", "gpkg"),
    "map": ("html", "png", "pdf"),
    "report": ("report", "png"),
}


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        sys.stdout.write(text + "\n")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(f"warning: {message}\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    from assetmap.settings import settings

    if args.offline:
        settings.offline = True
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _dispatch(args)
    except (ConfigError, SchemaError, GeoidError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    except DownloadError as exc:
        sys.stderr.write(
            f"error: {exc}\nCheck the network (or run 'assetmap fetch' while online, then use "
            "--offline).\n"
        )
        return EXIT_NETWORK
    except PrivacyError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_PRIVACY
    except AssetmapError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_INPUT
    except FileNotFoundError as exc:
        sys.stderr.write(f"error: file not found: {exc.filename or exc}\n")
        return EXIT_INPUT
    except (IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        sys.stderr.write(f"error: {_os_error_text(exc)}\n")
        return EXIT_INPUT
    except OSError as exc:
        if exc.errno not in (errno.ENAMETOOLONG, errno.EROFS, errno.ENOSPC, errno.EEXIST):
            raise
        sys.stderr.write(f"error: {_os_error_text(exc)}\n")
        return EXIT_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:  # e.g. `assetmap demo | head`: the reader left; stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _os_error_text(exc: OSError) -> str:
    """Return a user's path mistake in one line: the path (shortened) and what is wrong."""
    name = str(exc.filename or "")
    shown = name if len(name) <= 120 else f"{name[:60]}...{name[-40:]}"
    why = {errno.EISDIR: "is a folder, not a file", errno.ENOTDIR: "a part of the path is a "
           "file, not a folder", errno.EACCES: "permission denied", errno.ENAMETOOLONG:
           "the name is too long for the file system", errno.EROFS: "the file system is "
           "read-only", errno.ENOSPC: "the disk is full", errno.EEXIST: "exists already"}
    return f"{shown or 'a path'}: {why.get(exc.errno or 0, exc.strerror or 'cannot use it')}"


def _check_out(out: str | None) -> None:
    """Refuse an output folder that is a file or whose name cannot exist, before any work."""
    if not out:
        return
    path = Path(out)
    if any(len(part.encode()) > 255 for part in path.parts) or len(str(path)) > 4000:
        raise ConfigError(f"--out {out[:60]}...: the name is too long for the file system")
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                raise ConfigError(f"--out {out}: {folder} is a file, not a folder; choose a "
                                  "folder")
            break


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "init":
        return _init(args)
    _check_out(getattr(args, "out", None))
    if args.command == "demo":
        return _demo(args)
    from assetmap.pipeline import Study

    study = Study.from_toml(args.study)
    if getattr(args, "out", None):
        study = study.with_output_dir(args.out)
    if getattr(args, "language", None):
        study = study.with_language(args.language)
    if args.command == "fetch":
        files = study.fetch()
        if study.config.from_fcc:
            from assetmap.pipeline.fcc import read_record, record_path

            record = read_record(study.config) or {}
            _say(args.quiet, f"FCC BDC availability as of {record.get('as_of_date')}: "
                             f"{len(files)} file(s), ids {', '.join(record.get('file_ids', []))}"
                             f"\nrecord: {record_path(study.config)}")
        from assetmap.pipeline.downloads import download_urls

        for key, url in download_urls(study.config).items():
            _say(args.quiet, f"[sources] {key}: {url.rsplit('/', 1)[-1]} ({url})")
        _say(args.quiet, f"cached {len(files)} file(s); later runs can use --offline")
        return EXIT_OK
    steps = None if args.command == "build" else _STEPS[args.command]
    start = time.perf_counter()
    result = study.run(steps=steps)
    language = study.config.outputs.get("language", "en")
    _report_paths(args.quiet, result.paths, time.perf_counter() - start, language)
    _summary(args.quiet, result.results, language)
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from assetmap.pipeline.template import study_template

    out = Path(args.out)
    if out.exists() and not args.force:
        raise ConfigError(f"{out} exists; use --force to overwrite it")
    state, county, name = args.state, args.county, None
    if args.district not in (None, ""):
        from assetmap.pipeline.template import check_district

        found = check_district(args.district, state=state, county=county,
                               school_year=args.school_year)
        state, county, name = found["state"], found["county"], found["name"]
        if found["checked"]:
            _say(args.quiet, f"NCES EDGE {found['school_year']}: LEAID {args.district} is "
                             f"{name} ({found['county_name'] or 'county not given'}, {state})")
    elif state in (None, ""):
        raise ConfigError("give --state (and --county), or --district with the district's "
                          "7-digit NCES LEAID")
    # refuses a state, county or LEAID that is not one (ConfigError, exit 2) before any write
    text = study_template(state=state, county=county, district=args.district,
                          district_name=name)
    out.write_text(text, encoding="utf-8")
    _say(args.quiet, f"wrote {out}\nnext: put your BDC files in {out.parent / 'bdc'}/, "
                     f"edit {out.name}, then run: assetmap build {out}")
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from assetmap.pipeline import run_demo

    start = time.perf_counter()
    result = run_demo(args.out, language=args.language)
    _report_paths(args.quiet, result.paths, time.perf_counter() - start, args.language)
    _summary(args.quiet, result.results, args.language)
    return EXIT_OK


def _summary(quiet: bool, results: Results, language: str) -> None:
    from assetmap.outputs.summary import summary_lines

    _say(quiet, "")
    for line in summary_lines(results.scored, zones=results.zones, plan=results.plan,
                              evidence=results.evidence, challenges=results.challenges,
                              change=results.release_change, language=language):
        _say(quiet, line)


def _report_paths(quiet: bool, paths: dict[str, Path], seconds: float, language: str) -> None:
    _ = messages(language)
    _say(quiet, _.plural("wrote {count} file in {seconds} s:",
                         "wrote {count} files in {seconds} s:", len(paths),
                         seconds=_.number(seconds, decimals=1)))
    for key, path in paths.items():
        _say(quiet, f"  {key:<20} {path}")
