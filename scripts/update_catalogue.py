"""Add the message ids marked in the code but missing from the Spanish catalogue to a PO file.

Usage: ``python scripts/update_catalogue.py src/assetmap/locale/es/LC_MESSAGES/map.po
src/assetmap/outputs/interactive.py [more .py files or folders]``. New entries get an empty
``msgstr`` for a translator to fill; ``tests/test_i18n_catalogue.py`` fails until they are filled.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

KEYWORDS = {"_": None, "N_": None, "plural": (1, 2)}
CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "src/assetmap/locale/es/LC_MESSAGES"


def _python_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def main(target: str, paths: list[str]) -> int:
    known: set[str] = set()
    for po in CATALOGUE_DIR.glob("*.po"):
        with po.open("rb") as handle:
            known.update(str(m.id if isinstance(m.id, str) else m.id[0])
                         for m in read_po(handle) if m.id)
    target_path = Path(target)
    if target_path.exists():
        with target_path.open("rb") as handle:
            catalogue = read_po(handle, locale="es_US")
    else:
        catalogue = Catalog(locale="es_US", project="assetmap", version="",
                            copyright_holder="assetmap contributors", msgid_bugs_address="",
                            last_translator="assetmap contributors",
                            language_team="Spanish (United States)", fuzzy=False)
    added = 0
    for file in _python_files(paths):
        for lineno, message, _comments, _context in extract_from_file(
                "python", file, keywords=KEYWORDS):
            key = message if isinstance(message, str) else message[0]
            if not key or key in known:
                continue
            known.add(key)
            catalogue.add(message, string="" if isinstance(message, str) else ("", ""),
                          locations=[(str(file), lineno)])
            added += 1
    with target_path.open("wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False)
    print(f"{added} new message ids added to {target_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
