"""Every Python snippet in the docs and the README calls real functions with real keywords.

The snippets are not executed (most need a user's files or the network); each one is parsed,
and every call of an assetmap function (``am.name(...)`` or a name imported from assetmap) is
bound to the function's real signature, so a renamed function or keyword fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import assetmap as am

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _snippets() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for number, match in enumerate(FENCE.finditer(page.read_text(encoding="utf-8")), 1):
            out.append((f"{page.relative_to(ROOT)}#{number}", match.group(1)))
    return out


SNIPPETS = _snippets()


def _imported(tree: ast.Module) -> dict[str, object]:
    """Names bound by ``import assetmap as am`` and ``from assetmap... import x``."""
    names: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "assetmap":
                    names[alias.asname or "assetmap"] = am
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("assetmap"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def _target(func: ast.expr, names: dict[str, object]) -> tuple[str, object] | None:
    """The assetmap object a call refers to, or None for anything else."""
    chain: list[str] = []
    while isinstance(func, ast.Attribute):
        chain.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in names:
        return None
    obj = names[func.id]
    label = func.id
    for attr in reversed(chain):
        label += f".{attr}"
        assert hasattr(obj, attr), f"{label} does not exist"
        obj = getattr(obj, attr)
        if not (inspect.ismodule(obj) or inspect.isclass(obj) or callable(obj)):
            return None
    return label, obj


def test_there_are_snippets_to_check():
    pages = {name.split("#")[0] for name, _ in SNIPPETS}
    assert "docs/guide/your-district.md" in pages
    assert len(SNIPPETS) >= 15


@pytest.mark.parametrize(("name", "code"), SNIPPETS, ids=[n for n, _ in SNIPPETS])
def test_snippet_calls_match_signatures(name, code):
    tree = ast.parse(code)
    names = _imported(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        found = _target(node.func, names)
        if found is None or not callable(found[1]) or inspect.ismodule(found[1]):
            continue
        label, func = found
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):
            continue
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            continue
        args = [None] * len(node.args)
        kwargs = {k.arg: None for k in node.keywords}
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            pytest.fail(f"{name}: {label}{signature} cannot take this call: {exc}")
