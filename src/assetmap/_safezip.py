r"""Open zip files from the internet or a user without trusting them.

Every zip that assetmap reads goes through here. Before a byte is decompressed the zip's
directory is checked:

* a member whose name is absolute (``/etc/x``, ``C:\x``) or climbs out with ``..`` is
  refused (zip slip), so extraction can never write outside its target folder;
* the total uncompressed size may not pass ``settings.max_uncompressed_bytes``;
* a member may not expand more than :data:`MAX_RATIO` times its compressed size (a
  decompression bomb; real BDC and TIGER zips expand 3-20 times);
* a password-protected (encrypted) member is refused with what to do, not left to fail
  inside :mod:`zipfile` with a ``RuntimeError``.

The directory can lie about sizes, so reading and extracting also stream with a byte cap and
stop as soon as a member gives more than it declared. Every refusal is a
:class:`~assetmap.errors.SchemaError` naming the zip and the member.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from assetmap.errors import SchemaError
from assetmap.settings import settings

__all__ = [
    "MAX_RATIO", "check_zip", "check_zip_file", "extract_members", "extract_zip", "open_zip",
    "read_member", "unsafe_name",
]

MAX_RATIO = 200
_RATIO_FLOOR_BYTES = 1 << 20  # tiny members may compress extremely well; ignore them
_CHUNK = 1 << 20


def unsafe_name(name: str) -> bool:
    r"""Return True if a member name is absolute or climbs out of its folder.

    Examples
    --------
    >>> unsafe_name("tl_2020_48_tract.shp"), unsafe_name("../../etc/passwd")
    (False, True)
    >>> unsafe_name("/tmp/x"), unsafe_name("C:\\Windows\\x"), unsafe_name("a/../../b")
    (True, True, True)
    """
    posix = PurePosixPath(name.replace("\\", "/"))
    windows = PureWindowsPath(name)
    return (
        posix.is_absolute()
        or bool(windows.drive)
        or windows.is_absolute()
        or ".." in posix.parts
        or "\x00" in name
    )


def check_zip(archive: zipfile.ZipFile, shown: str, *, limit: int | None = None) -> None:
    """Refuse a zip whose directory holds unsafe names, too many bytes or a bomb.

    Parameters
    ----------
    archive : zipfile.ZipFile
        The open zip.
    shown : str
        The file name for messages.
    limit : int, optional
        Largest total uncompressed size (default ``settings.max_uncompressed_bytes``).

    Raises
    ------
    SchemaError
        Naming the zip, the member and what was wrong.
    """
    limit = settings.max_uncompressed_bytes if limit is None else limit
    total = 0
    for info in archive.infolist():
        if info.flag_bits & 0x1:
            raise SchemaError(
                f"{shown}: member {info.filename!r} is password-protected (encrypted); unzip "
                "it with its password and read the extracted file, or download it again"
            )
        if unsafe_name(info.filename):
            raise SchemaError(
                f"{shown}: refusing member {info.filename!r}: its path is absolute or leaves "
                "the folder it is extracted to (a 'zip slip'); this zip is not safe to open"
            )
        total += info.file_size
        if total > limit:
            raise SchemaError(
                f"{shown}: the zip expands to more than settings.max_uncompressed_bytes "
                f"({limit:,} bytes; member {info.filename!r} alone is {info.file_size:,}); "
                "raise that setting if the file is genuine"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR_BYTES and ratio > MAX_RATIO:
            raise SchemaError(
                f"{shown}: member {info.filename!r} expands {ratio:,.0f} times "
                f"({info.compress_size:,} -> {info.file_size:,} bytes), more than the "
                f"{MAX_RATIO} times a real data file does: refused as a decompression bomb"
            )


def open_zip(path: str | Path, *, shown: str | None = None) -> zipfile.ZipFile:
    """Open a zip and check its directory (see :func:`check_zip`); the caller closes it.

    Raises
    ------
    SchemaError
        If the file is not a zip, is truncated, or fails the checks.
    """
    shown = shown or str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
        raise SchemaError(f"{shown}: truncated or corrupt zip ({exc}); download it again") from exc
    try:
        check_zip(archive, shown)
    except SchemaError:
        archive.close()
        raise
    return archive


def _too_many(info: zipfile.ZipInfo, shown: str) -> SchemaError:
    return SchemaError(
        f"{shown}: member {info.filename!r} gives more bytes than its declared "
        f"{info.file_size:,} (or than settings.max_uncompressed_bytes): refused")


def _corrupt(info: zipfile.ZipInfo, shown: str, why: object) -> SchemaError:
    return SchemaError(f"{shown}: member {info.filename!r} is truncated or corrupt ({why}); "
                       "download the zip again")


def _inflate_isal(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out, shown: str,
                  cap: int) -> int | None:
    """Inflate a deflated member with ISA-L (``isal``, 2-3x zlib's rate), or return None.

    The same caps as :func:`_copy_capped`: never more than ``cap`` bytes out (inflated in
    bounded pieces), the CRC-32 and the size checked at the end. None (zlib is used) when
    isal is not installed, the member is not deflated or the zip is not a file on disk.
    """
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    name = getattr(archive, "filename", None)
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1 or not name:
        return None
    import struct

    got, crc = 0, 0
    with open(name, "rb") as fh:  # noqa: PTH123
        fh.seek(info.header_offset)
        head = fh.read(30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise _corrupt(info, shown, "bad local header")
        skip = sum(struct.unpack("<HH", head[26:30]))
        fh.seek(info.header_offset + 30 + skip)
        inflate = isal_zlib.decompressobj(-15)
        # isal's stub declares ``error`` as an instance; it is the class IsalError
        isal_error: type[Exception] = isal_zlib.error  # type: ignore[assignment]
        left = info.compress_size
        try:
            while left > 0 or inflate.unconsumed_tail:
                data = inflate.unconsumed_tail
                if not data:
                    data = fh.read(min(4 * _CHUNK, left))
                    if not data:
                        raise _corrupt(info, shown, "cut short")
                    left -= len(data)
                chunk = inflate.decompress(data, 4 * _CHUNK)
                got += len(chunk)
                if got > cap:
                    raise _too_many(info, shown)
                crc = isal_zlib.crc32(chunk, crc)
                out.write(chunk)
            chunk = inflate.flush()
        except isal_error as exc:
            raise _corrupt(info, shown, exc) from exc
        got += len(chunk)
        if got > cap:
            raise _too_many(info, shown)
        crc = isal_zlib.crc32(chunk, crc)
        out.write(chunk)
    if got != info.file_size or crc != info.CRC:
        raise _corrupt(info, shown, "size or CRC-32 differs from the zip's directory")
    return got


def _copy_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out, shown: str,
                 budget: int) -> int:
    """Stream one member into ``out``; stop past its declared size or the budget."""
    cap = min(info.file_size, budget)
    fast = _inflate_isal(archive, info, out, shown, cap)
    if fast is not None:
        return fast
    got = 0
    try:
        with archive.open(info) as src:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                got += len(chunk)
                if got > cap:
                    raise SchemaError(
                        f"{shown}: member {info.filename!r} gives more bytes than its declared "
                        f"{info.file_size:,} (or than settings.max_uncompressed_bytes): refused"
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise SchemaError(
            f"{shown}: member {info.filename!r} is truncated or corrupt ({exc}); download the "
            "zip again"
        ) from exc
    return got


def read_member(archive: zipfile.ZipFile, name: str | zipfile.ZipInfo, shown: str) -> bytes:
    r"""Read one member into memory with the size cap (after :func:`open_zip`).

    Examples
    --------
    >>> import io, zipfile
    >>> buf = io.BytesIO()
    >>> with zipfile.ZipFile(buf, "w") as z:
    ...     z.writestr("a.csv", "x,y\n1,2\n")
    >>> read_member(zipfile.ZipFile(buf), "a.csv", "a.zip")
    b'x,y\n1,2\n'
    """
    import io

    info = name if isinstance(name, zipfile.ZipInfo) else archive.getinfo(name)
    buffer = io.BytesIO()
    _copy_capped(archive, info, buffer, shown, settings.max_uncompressed_bytes)
    return buffer.getvalue()


def extract_zip(
    path: str | Path,
    target: str | Path,
    *,
    suffixes: tuple[str, ...] | None = None,
    prefix: str = "",
    flat: bool = True,
) -> list[Path]:
    r"""Extract a zip's members into ``target`` safely; return the written files.

    Parameters
    ----------
    path : path
        The zip.
    target : path
        The folder to write into (created if needed). Nothing is written outside it.
    suffixes : tuple of str, optional
        Extract only members whose names end with one of these (lower case), e.g.
        ``(".csv", ".txt")``.
    prefix : str
        Put before each written file's name (keeps members of several zips apart).
    flat : bool
        Write each member under its base name only (default), dropping its folders. Two
        members with one base name (``a/x.csv``, ``b/x.csv``) are both written, the second
        as ``x (2).csv``: no member overwrites another.

    Raises
    ------
    SchemaError
        For an unsafe name, a bomb, a size over ``settings.max_uncompressed_bytes``, a
        password-protected or corrupt member; a partly written file is removed.

    Examples
    --------
    >>> import io, tempfile, zipfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with zipfile.ZipFile(d / "a.zip", "w") as z:
    ...     z.writestr("data/a.csv", "x\n1\n")
    ...     z.writestr("more/a.csv", "x\n2\n")
    >>> [p.name for p in extract_zip(d / "a.zip", d / "out")]
    ['a.csv', 'a (2).csv']
    """
    return list(extract_members(path, target, suffixes=suffixes, prefix=prefix, flat=flat))


def extract_members(
    path: str | Path,
    target: str | Path,
    *,
    suffixes: tuple[str, ...] | None = None,
    prefix: str = "",
    flat: bool = True,
) -> dict[Path, str]:
    """Extract as :func:`extract_zip` does; return each written file with its member's name.

    Members are written in the order of the zip's directory, each to a file of its own
    (a member name that occurs twice in the directory is written twice).
    """
    shown = str(path)
    root = Path(target)
    root.mkdir(parents=True, exist_ok=True)
    resolved_root = root.resolve()
    budget = settings.max_uncompressed_bytes
    written: dict[Path, str] = {}
    with open_zip(path, shown=shown) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if suffixes and not info.filename.lower().endswith(suffixes):
                continue
            relative = Path(info.filename.replace("\\", "/"))
            dest = root / (prefix + relative.name if flat else prefix + str(relative))
            dest = _unused(dest, written)
            if resolved_root not in dest.resolve().parents:
                raise SchemaError(f"{shown}: refusing member {info.filename!r} (outside "
                                  f"{root})")
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with dest.open("wb") as out:
                    budget -= _copy_capped(archive, info, out, shown, budget)
            except BaseException:
                dest.unlink(missing_ok=True)
                raise
            written[dest] = info.filename
    return written


def _unused(dest: Path, written: dict[Path, str]) -> Path:
    """``dest``, or ``name (2).ext``, ``name (3).ext``... if this zip already wrote it."""
    number = 1
    candidate = dest
    while candidate in written:
        number += 1
        candidate = dest.with_name(f"{dest.stem} ({number}){dest.suffix}")
    return candidate


def check_zip_file(path: str | Path, *, shown: str | None = None) -> None:
    """Check a ``.zip`` file's directory before another library (pyogrio) reads it.

    Files that are not named ``.zip`` are left alone.
    """
    if Path(path).suffix.lower() == ".zip":
        with open_zip(path, shown=shown):
            pass
