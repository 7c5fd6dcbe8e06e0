"""Errors raised by assetmap.

Every error is an :class:`AssetmapError`, and each subclass also derives from the standard
exception a caller would expect (``ValueError`` for bad data, ``OSError`` for downloads), so
``except ValueError`` keeps working. Messages say what was wrong, where (file, row, column,
URL) and, where possible, what to do about it.
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "AssetmapError",
    "AssetmapWarning",
    "ConfigError",
    "DownloadError",
    "GeoidError",
    "OfflineError",
    "PrivacyError",
    "RejectedRowsWarning",
    "RepairWarning",
    "SchemaError",
    "where",
]


class AssetmapError(Exception):
    """Base class of every error that assetmap raises on purpose."""


class SchemaError(AssetmapError, ValueError):
    """A file or frame does not have the columns, types or values its format requires."""


class GeoidError(AssetmapError, ValueError):
    """A GEOID or FIPS code is malformed, ambiguous or of the wrong geography."""


class ConfigError(AssetmapError, ValueError):
    """A setting, study file key or option has a value outside what is allowed."""


class DownloadError(AssetmapError, OSError):
    """A download failed or returned something that is not the expected file."""


class OfflineError(DownloadError):
    """Offline mode is on and the requested URL is not in the cache."""


class PrivacyError(AssetmapError, ValueError):
    """An operation would expose household-level or small-cell survey or student data."""


class AssetmapWarning(UserWarning):
    """Base class of assetmap's warnings."""


class RepairWarning(AssetmapWarning):
    """Input was repaired (e.g. lost leading zeros, swapped lat/lon); the message counts rows."""


class RejectedRowsWarning(AssetmapWarning):
    """Rows were left out of a result; the message counts them and says why."""


def where(
    source: str | PathLike[str] | None = None,
    *,
    row: int | None = None,
    column: str | None = None,
) -> str:
    """Format a location for an error message: ``file, row N, column 'x'``.

    Parameters
    ----------
    source : str or path-like, optional
        The file (or URL, or frame name) the value came from.
    row : int, optional
        The 1-based data row (the header is row 0 ... so the first data row is 1).
    column : str, optional
        The column name.

    Returns
    -------
    str
        A short human-readable location; empty parts are left out.

    Examples
    --------
    >>> where("survey.csv", row=12, column="lat")
    "survey.csv, row 12, column 'lat'"
    """
    parts = []
    if source is not None:
        parts.append(str(source))
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column {column!r}")
    return ", ".join(parts)
