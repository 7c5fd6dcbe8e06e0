"""The Spanish catalogue holds every string the code shows to users, with the same placeholders."""

import json
import string
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import assetmap as am
from assetmap._i18n import check_language, messages  # internal: the one message catalogue
from assetmap.analysis._funding import funding_programs  # internal: the dated program table

SOURCE = Path(am.__file__).parent
CATALOGUE_DIR = SOURCE / "locale" / "es" / "LC_MESSAGES"
KEYWORDS = {"_": None, "N_": None, "plural": (1, 2)}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _marked_in_code() -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            SOURCE, method_map=[("**.py", "python")], keywords=KEYWORDS):
        for text in ([message] if isinstance(message, str) else list(message)):
            if text:
                found.setdefault(text, (filename, lineno))
    return found


def _spanish() -> dict[str, str]:
    entries: dict[str, str] = {}
    for po in sorted(CATALOGUE_DIR.glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or message.fuzzy:
                    continue
                ids = [message.id] if isinstance(message.id, str) else list(message.id)
                strings = message.string
                texts = [strings] if isinstance(strings, str) else list(strings)
                for key, text in zip(ids, texts, strict=False):
                    assert entries.get(key, text) == text, f"{po.name}: {key!r} differs"
                    entries[key] = text
    return entries


def test_every_marked_string_has_spanish_text():
    spanish = _spanish()
    missing = [f"{file}:{line}: {text!r}" for text, (file, line) in _marked_in_code().items()
               if not spanish.get(text)]
    assert not missing, "strings with no Spanish text:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    wrong = [f"{key!r} -> {text!r}" for key, text in _spanish().items()
             if text and _placeholders(key) != _placeholders(text)]
    assert not wrong, "\n".join(wrong)


def test_code_marks_strings_for_the_catalogue():
    assert len(_marked_in_code()) > 0


def test_language_option_is_checked():
    assert check_language("es-US") == "es"
    with pytest.raises(am.errors.ConfigError, match="'en' \\(English\\), 'es' \\(Español\\)"):
        check_language("fr")


def test_spanish_numbers_and_dates_follow_the_locale():
    _ = messages("es")
    assert _.date("2025-06-30") == "30 de junio de 2025"
    assert _.number(12345.678, decimals=1) == "12,345.7"
    assert messages("en").date("2025-06-30") == "June 30, 2025"


def test_shipped_data_texts_have_spanish_text():
    """Technology names and rule-set titles are data (bdc/rules.json), translated where shown."""
    spanish = _spanish()
    rules = json.loads((SOURCE / "bdc" / "rules.json").read_text("utf-8"))
    texts = [t["name"] for t in rules["technologies"]]
    texts += [r["title"] for r in rules["rule_sets"] if r.get("title")]
    missing = [text for text in texts if not spanish.get(text)]
    assert not missing, f"data texts with no Spanish text: {missing}"


def test_shipped_funding_programs_have_spanish_text():
    table = funding_programs()
    blank = table[(table["name_es"] == "") | (table["status_text_es"] == "")]["key"].tolist()
    assert not blank, f"funding programs with no Spanish text: {blank}"


def test_spanish_interventions_read_in_spanish():
    tracts = pd.DataFrame({"unserved_share": [0.0], "underserved_share": [0.05],
                           "no_internet_share": [0.3], "poverty_share": [0.35],
                           "sites_within_reach": [2]})
    out = am.recommend_interventions(tracts, language="es")
    assert out["intervention_reason"].iloc[0].startswith("con servicio (brecha 5%)")
    assert "(al 1 de junio de 2024)" in out["intervention_funding"].iloc[0]
    assert "Programa de Conectividad Asequible (ACP)" in out["intervention_funding"].iloc[0]
