"""Messages in the reader's language: one catalogue, numbers and dates in the locale's format.

Every user-facing string is an English message id marked ``_("...")`` in the code; its
translations live in gettext PO files under ``assetmap/locale/<lang>/LC_MESSAGES/`` (read with
Babel, compiled in memory once per process). :func:`messages` returns the translator for a
language, and :func:`check_language` is the one check of a ``language=`` option.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from assetmap.errors import ConfigError

__all__ = ["LANGUAGES", "N_", "Messages", "check_language", "messages"]

_LOCALE_DIR = resources.files("assetmap") / "locale"
LANGUAGES: dict[str, dict[str, str]] = {
    code: spec
    for code, spec in json.loads((_LOCALE_DIR / "languages.json").read_text("utf-8")).items()
    if not code.startswith("_")
}


def N_(message: str) -> str:  # noqa: N802 - the gettext marker's conventional name
    """Mark ``message`` for the catalogue without translating it (for module constants).

    Examples
    --------
    >>> N_("Households")
    'Households'
    """
    return message


def check_language(language: object) -> str:
    """Return the language code, or raise naming the languages assetmap writes.

    Examples
    --------
    >>> check_language("ES")
    'es'
    """
    code = str(language).strip().lower().replace("_", "-").split("-")[0] if language else ""
    if code not in LANGUAGES:
        allowed = ", ".join(f"{key!r} ({spec['name']})" for key, spec in LANGUAGES.items())
        raise ConfigError(f"language {language!r} is not available; use one of {allowed}")
    return code


def _catalogue_files(code: str) -> list[Any]:
    folder = _LOCALE_DIR / code / "LC_MESSAGES"
    if not folder.is_dir():
        return []
    return sorted((item for item in folder.iterdir() if item.name.endswith(".po")),
                  key=lambda item: item.name)


@cache
def _translations(code: str) -> NullTranslations:
    """Compile every PO file of a language into one gettext catalogue (cached)."""
    merged: Translations | None = None
    for item in _catalogue_files(code):
        with item.open("rb") as handle:
            catalogue = read_po(handle, locale=LANGUAGES[code]["locale"])
        buffer = io.BytesIO()
        write_mo(buffer, catalogue)
        buffer.seek(0)
        part = Translations(buffer)
        if merged is None:
            merged = part
        else:
            merged.merge(part)
    return merged if merged is not None else NullTranslations()


#: The PO file of texts the readers record (source names, vintages, licences), matched whole.
RECORDED = "recorded.po"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_ENGLISH_DATE = re.compile(rf"({'|'.join(_MONTHS)}) (\d{{1,2}}), (\d{{4}})")
_ENGLISH_MONTH = re.compile(rf"({'|'.join(_MONTHS)}) (\d{{4}})")
_ISO_RANGE = re.compile(r"(\d{4}-\d{2}-\d{2}) to (\d{4}-\d{2}-\d{2})")
#: The ``recorded.po`` entry that words an ISO date range (matched by :data:`_ISO_RANGE` only).
_RANGE_ID = "{start_date} to {end_date}"


def _pattern(template: str) -> re.Pattern[str]:
    """Return a regex matching the texts a ``{name}`` template makes (a placeholder: any text)."""
    parts, seen = [], 0
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            seen += 1
            parts.append(f"(?P<{name}__{seen}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


@cache
def _recorded_templates(code: str) -> tuple[tuple[re.Pattern[str], str, str], ...]:
    folder = _LOCALE_DIR / code / "LC_MESSAGES"
    item = folder / RECORDED
    if not item.is_file():
        return ()
    with item.open("rb") as handle:
        catalogue = read_po(handle, locale=LANGUAGES[code]["locale"])
    found = [(_pattern(str(m.id)), str(m.id), str(m.string)) for m in catalogue
             if m.id and isinstance(m.id, str) and "{" in m.id and m.string
             and m.id != _RANGE_ID]
    # the longest literal text first, so "{a}, via the {b}" wins over "{a}, {b}"
    found.sort(key=lambda t: -len(re.sub(r"\{[^}]*\}", "", t[1])))
    return tuple(found)


@dataclass(frozen=True)
class Messages:
    """The translator for one language: call it with a message id and its placeholders.

    Examples
    --------
    >>> _ = messages("es")
    >>> _.language, _.html_lang
    ('es', 'es')
    >>> messages("en")("{count} tracts", count=3)
    '3 tracts'
    """

    language: str

    @property
    def locale(self) -> str:
        """The Babel/CLDR locale for numbers and dates (``en_US``, ``es_US``)."""
        return LANGUAGES[self.language]["locale"]

    @property
    def html_lang(self) -> str:
        """The value of a page's ``lang`` attribute."""
        return LANGUAGES[self.language]["html"]

    @property
    def pdf_lang(self) -> str:
        """The value of a PDF's ``/Lang`` entry."""
        return LANGUAGES[self.language]["pdf"]

    def __call__(self, message: str, /, **values: Any) -> str:
        """Return ``message`` in this language, with ``{name}`` placeholders filled."""
        text = _translations(self.language).gettext(message) if self.language != "en" else message
        return text.format(**values) if values else text

    def recorded(self, text: object) -> str:
        """Return a text a reader recorded in English (a source, vintage, licence) in this language.

        Whole texts and ``{name}`` templates of the ``recorded.po`` catalogue are matched, parts
        are translated in turn, English dates are written in the locale's form, and ``; ``
        lists are translated item by item. A text no entry matches is returned as it is (a
        name from the user's data).

        Examples
        --------
        >>> messages("es").recorded("as of June 30, 2025")
        'al 30 de junio de 2025'
        >>> messages("en").recorded("as of June 30, 2025")
        'as of June 30, 2025'
        """
        value = str(text)
        if self.language == "en" or not value.strip():
            return value
        translated = _translations(self.language).gettext(value)
        if translated != value:
            return translated
        found = _ENGLISH_DATE.fullmatch(value)
        if found:
            month = _MONTHS.index(found.group(1)) + 1
            return self.date(dt.date(int(found.group(3)), month, int(found.group(2))))
        found = _ISO_RANGE.fullmatch(value)
        if found:
            return _translations(self.language).gettext(_RANGE_ID).format(
                start_date=self.date(found.group(1)), end_date=self.date(found.group(2)))
        found = _ENGLISH_MONTH.fullmatch(value)
        if found:
            day = dt.date(int(found.group(2)), _MONTHS.index(found.group(1)) + 1, 1)
            return format_date(day, format="LLLL 'de' y", locale=self.locale)
        for pattern, _template, target in _recorded_templates(self.language):
            match = pattern.fullmatch(value)
            if match:
                values = {key.rsplit("__", 1)[0]: self.recorded(part)
                          for key, part in match.groupdict().items()}
                return target.format(**values)
        if "; " in value:
            return "; ".join(self.recorded(part) for part in value.split("; "))
        return value

    def plural(self, singular: str, plural: str, count: int, /, **values: Any) -> str:
        """Return the singular or plural form for ``count`` (``{count}`` is filled too)."""
        if self.language == "en":
            text = singular if count == 1 else plural
        else:
            text = _translations(self.language).ngettext(singular, plural, count)
        return text.format(count=self.number(count), **values)

    def number(self, value: float, *, decimals: int = 0) -> str:
        """Format a number with the locale's separators, e.g. ``1,234`` or ``12.5``."""
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float, *, decimals: int = 0) -> str:
        """Format a share (0.25) as a percentage in the locale's style (``25%``)."""
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
        return format_percent(share, format=pattern, locale=self.locale)

    def date(self, value: dt.date | str) -> str:
        """Format a date in the locale's long form (``December 7, 2026``)."""
        day = dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return format_date(day, format="long", locale=self.locale)


def messages(language: object = "en") -> Messages:
    """Return the :class:`Messages` translator for ``language`` (``"en"`` or ``"es"``).

    A :class:`Messages` is returned as it is, so internal helpers take either.

    Examples
    --------
    >>> _ = messages("es")
    >>> _.date("2025-06-30")
    '30 de junio de 2025'
    >>> _.number(1234.5, decimals=1)
    '1,234.5'
    >>> messages(_) is _
    True
    """
    if isinstance(language, Messages):
        return language
    return Messages(check_language(language))
