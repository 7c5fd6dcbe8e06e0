"""BDC availability inputs: paths and globs to files, zips unpacked, headers checked.

Every input file is read, even when two share a name: CSVs in different folders, members
with one name in one zip or in two zips are each extracted to a file of their own and named
in messages as ``zip (member)``. Headers are checked before any row is read: a missing
column, an empty file or text that is not UTF-8 (UTF-16 "Unicode Text") is a
:class:`~assetmap.errors.SchemaError` naming the file; a byte-order mark is skipped.
"""

from __future__ import annotations

import contextlib
import glob as globmod
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from assetmap._safezip import extract_members
from assetmap.bdc._schema import BDC_COLUMNS
from assetmap.errors import SchemaError, where

__all__ = ["Inputs", "canonical_name", "check_header", "group_by_state", "open_inputs",
           "resolve_paths", "state_of_file"]

_STATE_IN_NAME = re.compile(r"^bdc_(\d{2})_", re.IGNORECASE)
_PARTITION = re.compile(r"^state_usps=(.*)$")


@dataclass
class Inputs:
    """Resolved input files grouped by kind, plus what was repaired on the way."""

    csv_groups: dict[tuple[str, ...], list[Path]] = field(default_factory=dict)
    parquet: list[Path] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    header_repairs: list[str] = field(default_factory=list)
    #: each CSV as messages name it (``zip (member)`` for an extracted member)
    shown: dict[Path, str] = field(default_factory=dict)
    lenient: bool = False
    numeric_repairs: int = 0
    #: read ``location_id`` as BIGINT (only when every input is Parquet storing integer
    #: ids, which :func:`assetmap.bdc_to_parquet` writes only if they round-trip exactly)
    int_ids: bool = False

    @property
    def id_type(self) -> str:
        """SQL type of ``location_id`` in the typed scan."""
        return "BIGINT" if self.int_ids and not self.csv_groups else "VARCHAR"

    def files(self) -> list[Path]:
        """Every CSV and Parquet file, in reading order."""
        return [f for fs in self.csv_groups.values() for f in fs] + list(self.parquet)

    def name(self, path: Path | str) -> str:
        """Return the name of a file in messages."""
        return self.shown.get(Path(path), str(path))


_TEXT_SUFFIXES = (".csv", ".txt", ".zip")


def _folder_files(folder: Path) -> list[Path]:
    """Return a folder as BDC inputs: itself (a Parquet dataset) or the CSVs and zips in it.

    A folder holding both Parquet and CSV or zip files is refused (reading both would count
    the same rows twice, as after :func:`assetmap.bdc_to_parquet` into the download folder);
    a folder holding neither is an error, never an empty result.
    """
    found = [f for f in sorted(folder.rglob("*")) if f.is_file()]
    parquet = [f for f in found if f.suffix.lower() == ".parquet"]
    text = [f for f in found if f.suffix.lower() in _TEXT_SUFFIXES]
    if parquet and text:
        raise SchemaError(
            f"{folder}: the folder holds both Parquet files ({len(parquet)}) and CSV or zip "
            f"files ({len(text)}); give one kind, e.g. '{folder}/**/*.parquet' or "
            f"'{folder}/**/*.zip'")
    if parquet:
        return [folder]
    if text:
        return text
    names = [f.name for f in found[:5]]
    raise FileNotFoundError(f"{folder}: the folder holds no BDC availability file (.csv, "
                            f".zip or .parquet; found {names or 'nothing'})")


def resolve_paths(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand a path, a glob or a list of them into existing files (or Parquet directories).

    A folder stands for what it holds: a Parquet dataset (kept as the folder) or its CSV and
    zip files, in name order.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[Path] = []
    for item in items:
        text = str(item)
        matches = sorted(globmod.glob(text, recursive=True))  # noqa: PTH207
        if not matches or not Path(matches[0]).exists():
            raise FileNotFoundError(f"no BDC availability file matches {text!r}")
        found = [Path(m) for m in matches]
        for m in found:
            if not m.is_dir():
                out.append(m)
            elif not any(m in f.parents for f in found):  # 'folder/**' also matched its files
                out.extend(_folder_files(m))
    if not out:
        raise FileNotFoundError(f"no BDC availability file given ({paths!r})")
    return out


def state_of_file(path: Path) -> str | None:
    """Return the state FIPS code in a BDC file name (``bdc_48_...``), else None."""
    m = _STATE_IN_NAME.match(path.name)
    return m.group(1) if m else None


def group_by_state(files: Sequence[Path]) -> dict[str | None, list[Path]]:
    """Group files by the state in their names; locations never cross a state line."""
    groups: dict[str | None, list[Path]] = {}
    for f in files:
        groups.setdefault(state_of_file(f), []).append(f)
    return groups


def _partition_state(path: Path) -> str | None:
    """Return the ``state_usps=XX`` folder a Parquet file sits in (upper case), or None."""
    for part in path.parts:
        m = _PARTITION.match(part)
        if m:
            return m.group(1).strip().upper()
    return None


def _extract_one(path: Path, target: Path) -> dict[Path, str]:
    # _safezip refuses unsafe member names, bombs, encrypted members and sizes over the
    # setting, and streams with a byte cap (SchemaError naming the zip for a corrupt one)
    out = extract_members(path, target, suffixes=(".csv", ".txt"))
    if not out:
        with zipfile.ZipFile(path) as zf:
            names = [m.filename for m in zf.infolist()][:5]
        raise SchemaError(f"{path}: the zip holds no CSV file (found {names})")
    return out


def extract_zips(zips: Sequence[Path], target: Path) -> dict[Path, str]:
    """Unzip in parallel threads, each zip to a folder of its own; return CSV -> its name.

    The name is ``zip (member)``, as messages show it.
    """
    folders = [target / str(i) for i in range(len(zips))]
    with ThreadPoolExecutor(max_workers=max(1, min(len(zips), os.cpu_count() or 2))) as ex:
        results = list(ex.map(_extract_one, zips, folders))
    return {csv: f"{z} ({member})" for z, found in zip(zips, results, strict=True)
            for csv, member in found.items()}


def _read_header(path: Path, shown: str) -> tuple[str, ...]:
    with path.open("rb") as fh:
        first = fh.readline(1 << 16)
    if not first.strip():
        raise SchemaError(f"{shown}: empty file (no header row); is the download complete?")
    if first.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in first:
        raise SchemaError(f"{shown}: the text is UTF-16 (saved as 'Unicode Text'?), not UTF-8; "
                          "open it and save it as 'CSV UTF-8', then read it again")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemaError(f"{where(shown, row=0)}: the header is not UTF-8 text (saved in "
                          "Windows-1252 or Latin-1?); save the file as 'CSV UTF-8', then "
                          "read it again") from exc
    return tuple(n.strip().strip('"') for n in text.strip().split(","))


def canonical_name(name: str) -> str:
    """Return a header name as the BDC spells it: trimmed, lower case, ``_`` for spaces.

    Examples
    --------
    >>> canonical_name(" Location Id")
    'location_id'
    """
    return name.strip().lower().replace(" ", "_")


def check_header(header: tuple[str, ...], shown: str, repairs: list[str]) -> tuple[str, ...]:
    """Map a file's header onto the canonical names (case and spaces repaired) or raise."""
    mapped = [canonical_name(name) for name in header]
    renamed = [f"{name!r} read as {canon!r}" for name, canon in zip(header, mapped, strict=True)
               if canon != name]
    if renamed:  # one entry per file
        repairs.append(f"{shown}: header {', '.join(renamed)}")
    missing = [c for c in BDC_COLUMNS if c not in mapped]
    if missing:
        extra = [h for h, m in zip(header, mapped, strict=True) if m not in BDC_COLUMNS]
        hint = f"; unexpected column(s) {extra}: rename them" if extra else ""
        raise SchemaError(
            f"{where(shown, row=0, column=missing[0])}: missing BDC column(s) {missing}{hint}. "
            f"A BDC availability file has: {', '.join(BDC_COLUMNS)}"
        )
    return tuple(mapped)


@contextlib.contextmanager
def open_inputs(files: Sequence[Path], *, keep_zip_names: dict[Path, Path] | None = None,
                states: Iterable[str] | None = None) -> Iterator[Inputs]:
    """Extract zips to a temporary folder, check headers, group CSVs by header layout.

    ``states`` (USPS codes) leaves out the Parquet partitions (``state_usps=XX`` folders)
    of other states, as file names ``bdc_<fips>_...`` of other states are left out before.
    """
    inputs = Inputs()
    wanted = {s.strip().upper() for s in states} if states else None
    tmp = None
    try:
        zips = [f for f in files if f.is_file() and f.suffix.lower() == ".zip"]
        origin: dict[Path, str] = {}
        if zips:
            tmp = Path(tempfile.mkdtemp(prefix="assetmap_bdc_"))
            origin = extract_zips(zips, tmp)
        csvs = [f for f in files if f.is_file() and f.suffix.lower() in (".csv", ".txt")]
        csvs += list(origin)
        for f in files:
            if f.is_dir():
                inputs.parquet.extend(sorted(f.glob("**/*.parquet")))
            elif f.suffix.lower() == ".parquet":
                inputs.parquet.append(f)
            elif f.suffix.lower() not in (".zip", ".csv", ".txt"):
                raise SchemaError(f"{f}: not a BDC CSV, zip or Parquet file")
        if wanted is not None:
            inputs.parquet = [p for p in inputs.parquet
                              if _partition_state(p) in (None, *wanted)]
        for f in csvs:
            shown = origin.get(f, str(f))
            header = check_header(_read_header(f, shown), shown, inputs.header_repairs)
            inputs.csv_groups.setdefault(header, []).append(f)
            inputs.names.append(shown)
            inputs.shown[f] = shown
            if keep_zip_names is not None:
                keep_zip_names[f] = Path(shown)
        inputs.names.extend(str(p) for p in inputs.parquet)
        yield inputs
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
