"""What the Spanish output tests look for: English left in a text that should be Spanish.

Shared by tests/test_report_spanish.py and tests/test_demo_spanish.py (the map's test reads the
map's data and scripts with its own parser).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

import assetmap as am

CATALOGUE = Path(am.__file__).parent / "locale" / "es" / "LC_MESSAGES"


@cache
def english_fragments() -> tuple[str, ...]:
    """The literal parts of every catalogue message whose Spanish differs, two words or more."""
    fragments = set()
    for po in CATALOGUE.glob("*.po"):
        with po.open("rb") as handle:
            for message in read_po(handle):
                ids = [message.id] if isinstance(message.id, str) else list(message.id or [])
                first = message.string[0] if isinstance(message.string, tuple) else message.string
                if not message.id or ids[0] == first:
                    continue
                for text in ids:
                    for part in re.split(r"\{[^}]*\}", text):
                        part = part.strip(" .,;:()#+/-")
                        if len(re.findall(r"[A-Za-z]{2,}", part)) >= 2:
                            fragments.add(part)
    return tuple(sorted(fragments))


def fragments_left(text: str) -> list[str]:
    """The English catalogue fragments found in ``text``."""
    return [f for f in english_fragments()
            if re.search(rf"(?<![\w]){re.escape(f)}(?![\w])", text)]


def words_left(text: str, words: Iterable[str], *, context: int = 40) -> dict[str, str]:
    """Each of ``words`` found in ``text`` (not inside a path or a file name), in context."""
    return {word: text[max(0, m.start() - context):m.end() + context] for word in words
            for m in [re.search(rf"(?<![\w/.-]){re.escape(word)}(?![\w/-])", text)] if m}


def without_values(text: str, values: Iterable[str]) -> str:
    """``text`` with runs of blanks squashed and each data value (longest first) taken out."""
    text = " ".join(text.split())
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, " \u00a7 ")
    return text
