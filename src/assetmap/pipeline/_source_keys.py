"""The ``[sources]`` keys of a study that ask for a download instead of naming a file.

``schools = "nces"`` (with an optional ``school_year``) takes the schools from the NCES EDGE
public-school geocodes; ``ookla_year`` and ``ookla_quarter`` take Ookla's open-data fixed
tiles of that quarter. :func:`check_source_keys` checks them when the study file is read, so
a bad value is refused before anything is downloaded, with a message naming the key and what
is allowed.
"""

from __future__ import annotations

from typing import Any

from assetmap.errors import ConfigError

__all__ = ["NCES_SCHOOLS", "PATH_KEYS", "check_source_keys"]

#: ``[sources] schools = "nces"``: the NCES EDGE public-school geocodes (``assetmap fetch``)
NCES_SCHOOLS = "nces"
#: The ``[sources]`` keys that name a file (resolved against the study file's folder).
PATH_KEYS = ("schools", "districts", "partners", "survey", "zones", "rurality", "points",
             "speedtests", "ookla_tiles")


def check_source_keys(sources: dict[str, Any]) -> dict[str, Any]:
    """Return the download keys of ``[sources]`` checked, the school year in its label form.

    Parameters
    ----------
    sources : dict
        The ``[sources]`` table with its defaults (``school_year``, ``ookla_year`` and
        ``ookla_quarter`` are None when not given). Not modified.

    Returns
    -------
    dict
        ``school_year`` (``"2024-25"`` form, or None), ``ookla_year``, ``ookla_quarter``.

    Raises
    ------
    ConfigError
        Naming the key and what is allowed.

    Examples
    --------
    >>> check_source_keys({"schools": "nces", "school_year": 2023, "ookla_year": None,
    ...                    "ookla_quarter": None, "ookla_tiles": ""})["school_year"]
    '2023-24'
    >>> check_source_keys({"schools": "", "school_year": None, "ookla_year": 2025,
    ...                    "ookla_quarter": 5, "ookla_tiles": ""})
    Traceback (most recent call last):
    ...
    assetmap.errors.ConfigError: [sources] ookla_quarter must be 1, 2, 3 or 4, got 5
    """
    year = sources.get("school_year")
    label = None
    if year not in (None, ""):
        if sources.get("schools") != NCES_SCHOOLS:
            raise ConfigError(f'[sources] school_year applies only to schools = "{NCES_SCHOOLS}" '
                              f"(the NCES EDGE public-school geocodes); got schools = "
                              f"{sources.get('schools')!r}")
        from assetmap.loaders._edge_files import school_year

        try:
            label = school_year(year)[0]
        except ConfigError as exc:
            raise ConfigError(f"[sources] {exc}") from None
    ookla_year, quarter = sources.get("ookla_year"), sources.get("ookla_quarter")
    if (ookla_year is None) != (quarter is None):
        missing = "ookla_quarter" if quarter is None else "ookla_year"
        raise ConfigError(f"[sources] {missing} is missing: give both ookla_year (e.g. 2025) "
                          "and ookla_quarter (1-4) to download Ookla's fixed tiles of a quarter")
    if ookla_year is not None and quarter is not None:
        if sources.get("ookla_tiles"):
            raise ConfigError("[sources] give either ookla_tiles (a file) or ookla_year and "
                              "ookla_quarter (a download), not both")
        from assetmap.loaders._ookla_download import ookla_tiles_url

        try:
            ookla_tiles_url(year=ookla_year, quarter=quarter)
        except ValueError as exc:
            text = str(exc)  # "quarter must be ...", "year must be ..." or about the period
            for name in ("quarter", "year"):
                if text.startswith(f"{name} "):
                    raise ConfigError(f"[sources] ookla_{text}") from None
            raise ConfigError(f"[sources] ookla_year, ookla_quarter: {text}") from None
    return {"school_year": label, "ookla_year": ookla_year, "ookla_quarter": quarter}
