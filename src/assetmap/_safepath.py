"""Keep every file a study writes inside its output folder (no ``..``, no link out).

One check for every writer (exports, challenge candidates, NTIA files, maps, report): the
file's path is resolved, following any symbolic link already standing at that name or on
the way to it, and a path that ends outside the output folder is refused with a
:class:`~assetmap.errors.ConfigError` naming it. Nothing is written before the check.
:func:`safe_stem` turns a study name into a file-name stem.
"""

from __future__ import annotations

from pathlib import Path

from assetmap.errors import ConfigError

__all__ = ["inside", "output_folder", "safe_stem"]


def safe_stem(name: str) -> str:
    """Return a file-name stem for a study name: lower case, letters, digits, ``-`` and ``_``.

    Examples
    --------
    >>> safe_stem("Ector County, TX")
    'ector_county__tx'
    >>> safe_stem("../../etc/x")
    'etc_x'
    """
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in name.strip().lower())
    return stem.strip("_") or "study"


def inside(out_dir: str | Path, name: str) -> Path:
    """Return ``out_dir / name`` resolved, refusing a path or link that leaves ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        The output folder (it may itself be a link; its resolved place is the folder).
    name : str
        The file name to write inside it.

    Returns
    -------
    pathlib.Path
        The resolved file path, inside ``out_dir``.

    Raises
    ------
    ConfigError
        If the path would leave the output folder: ``..``, an absolute name, or a symbolic
        link (to a file or folder, existing or dangling) pointing outside.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> inside(out, "map.html") == (out / "map.html").resolve()
    True
    >>> inside(out, "../escape.html")
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: refusing to write ... outside the output folder ...
    """
    folder = Path(out_dir).resolve()
    target = Path(out_dir) / name
    path = target.resolve()
    if folder not in path.parents:
        via = f" (through the link {target})" if target.is_symlink() else ""
        raise ConfigError(f"refusing to write {path}{via} outside the output folder "
                          f"{folder}; remove the link or choose another output folder")
    if path.is_dir():
        raise ConfigError(f"cannot write {path}: a folder of that name is in the way")
    return path


def output_folder(out_dir: str | Path) -> Path:
    """Create the output folder if missing and return it; a file in its place is an error.

    Raises
    ------
    ConfigError
        If ``out_dir`` (or a folder above it) is a file, or cannot be created.

    Examples
    --------
    >>> import tempfile
    >>> out = output_folder(Path(tempfile.mkdtemp()) / "new" / "out")
    >>> out.is_dir()
    True
    """
    path = Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ConfigError(f"the output folder {path} is a file (or lies under one); "
                          "choose a folder") from exc
    except OSError as exc:
        raise ConfigError(f"cannot create the output folder {path}: {exc.strerror}") from exc
    return path
