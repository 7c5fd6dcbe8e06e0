"""Global settings, validated on assignment.

Use the module-level :data:`settings` object::

    import assetmap as am
    am.settings.offline = True
    am.settings.timeout = 60

Each setting can also be given by an environment variable, read when the process starts
(``ASSETMAP_CACHE_DIR``, ``ASSETMAP_OFFLINE``, ``ASSETMAP_TIMEOUT``, ``ASSETMAP_MAX_RETRIES``,
``ASSETMAP_MAX_UNCOMPRESSED_BYTES``, ...).
Unknown names are refused, so a typo cannot silently do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from assetmap.errors import ConfigError

__all__ = ["Settings", "settings"]


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigError(f"expected a boolean (true/false, 1/0), got {value!r}")


def _as_path(value: Any) -> Path:
    try:
        return Path(value).expanduser()
    except TypeError as exc:
        raise ConfigError(f"expected a directory path, got {value!r}") from exc


def _positive(unit: str) -> Callable[[Any], float]:
    """Return a check of a positive number of ``unit`` (e.g. "seconds")."""

    def check(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"expected a number of {unit}, got {value!r}") from exc
        if not number > 0:
            raise ConfigError(f"expected a positive number of {unit}, got {value!r}")
        return number

    return check


_positive_float = _positive("seconds")
_per_minute = _positive("requests a minute")


def _retry_count(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"expected a whole number of retries, got {value!r}") from exc
    if not 0 <= number <= 20:
        raise ConfigError(f"max_retries must be between 0 and 20, got {value!r}")
    return number


def _nonneg_int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"expected a whole number, got {value!r}") from exc
    if number < 0:
        raise ConfigError(f"expected a number >= 0, got {value!r}")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"expected a non-empty string, got {value!r}")
    return value


def _optional_secret(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ConfigError(f"expected a string, got a {type(value).__name__}")
    return value.strip()


def _http_url(value: Any) -> str:
    text = _text(value).strip().rstrip("/")
    if not text.lower().startswith(("https://", "http://")):
        raise ConfigError(f"expected an http(s) URL, got {value!r}")
    return text



@dataclass(frozen=True)
class _Option:
    default: Callable[[], Any]
    validate: Callable[[Any], Any]
    env: str | None
    doc: str


_OPTIONS: dict[str, _Option] = {
    "cache_dir": _Option(
        lambda: Path(platformdirs.user_cache_dir("assetmap")),
        _as_path,
        "ASSETMAP_CACHE_DIR",
        "Where downloads are cached (default: the platform's user cache directory).",
    ),
    "offline": _Option(
        lambda: False,
        _as_bool,
        "ASSETMAP_OFFLINE",
        "Serve downloads only from the cache; a miss raises OfflineError.",
    ),
    "timeout": _Option(
        lambda: 30.0,
        _positive_float,
        "ASSETMAP_TIMEOUT",
        "Seconds to wait for a server to connect or to send the next bytes.",
    ),
    "max_retries": _Option(
        lambda: 4,
        _retry_count,
        "ASSETMAP_MAX_RETRIES",
        "How many times a failed download is retried (with exponential backoff), 0-20.",
    ),
    "backoff": _Option(
        lambda: 1.0,
        _positive_float,
        "ASSETMAP_BACKOFF",
        "First retry wait in seconds; doubles each retry; Retry-After wins when sent.",
    ),
    "max_download_bytes": _Option(
        lambda: 8 * 1024**3,
        _nonneg_int,
        "ASSETMAP_MAX_DOWNLOAD_BYTES",
        "Largest body a download may have (bytes); larger ones are refused.",
    ),
    "max_uncompressed_bytes": _Option(
        lambda: 16 * 1024**3,
        _nonneg_int,
        "ASSETMAP_MAX_UNCOMPRESSED_BYTES",
        "Largest total size a zip may expand to (bytes); a larger zip, or a member that "
        "expands more than 200 times (a decompression bomb), is refused before it is read.",
    ),
    "user_agent": _Option(
        lambda: "assetmap (https://github.com/assetmap/assetmap)",
        _text,
        "ASSETMAP_USER_AGENT",
        "The User-Agent header sent with every request.",
    ),
    "census_api_key": _Option(
        lambda: None,
        lambda v: None if v in (None, "") else _text(v),
        "CENSUS_API_KEY",
        "Census API key, sent when set (optional for small requests).",
    ),
    "fcc_username": _Option(
        lambda: None,
        _optional_secret,
        "ASSETMAP_FCC_USERNAME",
        "FCC Public Data API user name (the e-mail of your broadbandmap.fcc.gov account), "
        "sent as the 'username' header; needed by download_bdc. Never cached or logged.",
    ),
    "fcc_api_token": _Option(
        lambda: None,
        _optional_secret,
        "ASSETMAP_FCC_API_TOKEN",
        "FCC Public Data API token (broadbandmap.fcc.gov, Manage API Access), sent as the "
        "'hash_value' header; needed by download_bdc. Never cached or logged.",
    ),
    "fcc_api_url": _Option(
        lambda: "https://broadbandmap.fcc.gov/api/public/map",
        _http_url,
        "ASSETMAP_FCC_API_URL",
        "Base URL of the FCC BDC Public Data API (listAsOfDates, downloads/...).",
    ),
    "fcc_requests_per_minute": _Option(
        lambda: 10.0,
        _per_minute,
        "ASSETMAP_FCC_REQUESTS_PER_MINUTE",
        "Most requests a minute sent to the FCC Public Data API (its limit is 10); "
        "requests are spaced 60/this seconds apart, counted from the previous one's start.",
    ),
    "nces_edge_url": _Option(
        lambda: "https://nces.ed.gov/programs/edge/data",
        _http_url,
        "ASSETMAP_NCES_EDGE_URL",
        "Base URL of the NCES EDGE geocode files (EDGE_GEOCODE_PUBLICSCH_2425.zip, "
        "EDGE_GEOCODE_PUBLICLEA_2425.zip), used by load_schools, load_districts and init.",
    ),
    "tiger_url": _Option(
        lambda: "https://www2.census.gov/geo/tiger",
        _http_url,
        "ASSETMAP_TIGER_URL",
        "Base URL of the Census TIGER/Line and cartographic boundary files (TIGER{year}/..., "
        "GENZ{year}/...), used by load_tracts, load_counties, load_school_districts and a "
        "study's tracts when [census] base_url is not given.",
    ),
    "census_api_url": _Option(
        lambda: "https://api.census.gov/data",
        _http_url,
        "ASSETMAP_CENSUS_API_URL",
        "Base URL of the Census Data API ({year}/acs/acs5), used by load_acs and a study's "
        'acs = "api" when [census] acs_base_url is not given.',
    ),
    "ookla_open_data_url": _Option(
        lambda: "https://ookla-open-data.s3.amazonaws.com",
        _http_url,
        "ASSETMAP_OOKLA_OPEN_DATA_URL",
        "Base URL of Ookla's open-data tiles (parquet/performance/type=fixed/year=YYYY/"
        "quarter=Q/...), used by load_ookla_tiles.",
    ),
}

#: settings never shown by repr() (keys, tokens, account names)
_SECRET = frozenset({"census_api_key", "fcc_username", "fcc_api_token"})


class Settings:
    """The validated global settings of assetmap.

    Attributes are read and assigned like plain attributes; each assignment is validated
    and an unknown name raises :class:`~assetmap.errors.ConfigError`.

    Examples
    --------
    >>> from assetmap.settings import Settings
    >>> s = Settings(environ={})
    >>> s.offline
    False
    >>> s.max_retries = 2
    >>> s.max_retries
    2
    """

    def __init__(self, *, environ: dict[str, str] | None = None) -> None:
        environ = dict(os.environ) if environ is None else environ
        values: dict[str, Any] = {}
        for name, option in _OPTIONS.items():
            raw = environ.get(option.env) if option.env else None
            try:
                values[name] = option.validate(raw) if raw is not None else option.default()
            except ConfigError as exc:
                raise ConfigError(f"environment variable {option.env}: {exc}") from exc
        object.__setattr__(self, "_values", values)

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        raise AttributeError(f"assetmap has no setting {name!r}; settings are: {sorted(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _OPTIONS:
            raise ConfigError(f"assetmap has no setting {name!r}; settings are: {sorted(_OPTIONS)}")
        try:
            self._values[name] = _OPTIONS[name].validate(value)
        except ConfigError as exc:
            raise ConfigError(f"setting {name!r}: {exc}") from exc

    def __dir__(self) -> list[str]:
        return [*_OPTIONS, "describe", "override", "reset"]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._values.items() if k not in _SECRET)
        return f"Settings({body})"

    def reset(self) -> None:
        """Restore every setting to its default (environment variables included)."""
        object.__setattr__(self, "_values", Settings()._values)

    def describe(self) -> dict[str, str]:
        """Return each setting's documentation, keyed by name."""
        return {name: option.doc for name, option in _OPTIONS.items()}

    @contextmanager
    def override(self, **changes: Any) -> Iterator[Settings]:
        """Change settings inside a ``with`` block and restore them afterwards.

        Examples
        --------
        >>> from assetmap.settings import Settings
        >>> s = Settings(environ={})
        >>> with s.override(offline=True):
        ...     s.offline
        True
        >>> s.offline
        False
        """
        saved = dict(self._values)
        try:
            for name, value in changes.items():
                setattr(self, name, value)
            yield self
        finally:
            object.__setattr__(self, "_values", saved)


settings = Settings()
