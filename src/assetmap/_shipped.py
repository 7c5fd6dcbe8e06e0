"""Where the shipped Ector County data are: :func:`data_dir` and :func:`data_path`.

A base module: it imports nothing from :mod:`assetmap.loaders`, so a loader, a doctest or the
demo assembly (:mod:`assetmap.datasets`, which re-exports both functions) can find a shipped
file without an import circle. Loaders never call it: a loader reads only the paths its
caller passes. In an installed package the files live in ``assetmap/_data/ector``; in a
source checkout, in ``data/ector`` at the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from assetmap.errors import AssetmapError

__all__ = ["data_dir", "data_path"]

_PACKAGE_DATA = Path(__file__).resolve().parent / "_data" / "ector"
_SOURCE_DATA = Path(__file__).resolve().parents[2] / "data" / "ector"


@cache
def data_dir() -> Path:
    """Return the directory of the shipped Ector County data.

    Returns
    -------
    pathlib.Path
        ``assetmap/_data/ector`` in an installed package, else ``data/ector`` of the checkout.

    Raises
    ------
    AssetmapError
        If neither exists (a broken install).

    Examples
    --------
    >>> (data_dir() / "PROVENANCE.md").exists()
    True
    """
    for candidate in (_PACKAGE_DATA, _SOURCE_DATA):
        if (candidate / "PROVENANCE.md").exists():
            return candidate
    raise AssetmapError(
        f"the shipped Ector County data are missing (looked in {_PACKAGE_DATA} and "
        f"{_SOURCE_DATA}); reinstall assetmap"
    )


def data_path(*parts: str) -> Path:
    """Return the path of one shipped file, e.g. ``data_path("acs", "a.csv")``.

    Parameters
    ----------
    *parts : str
        The file's path below :func:`data_dir`, one folder or file name per argument.

    Returns
    -------
    pathlib.Path
        The file's absolute path.

    Raises
    ------
    AssetmapError
        If the file does not exist, naming it.

    Examples
    --------
    >>> data_path("boundaries", "ector_tracts_2020.geojson").name
    'ector_tracts_2020.geojson'
    """
    path = data_dir().joinpath(*parts)
    if not path.exists():
        raise AssetmapError(f"shipped data file not found: {path}")
    return path
