"""The public API of ``assetmap``: lazy at run time, fully typed for type checkers.

``assetmap/__init__.py`` lists every public name twice: in ``_API`` (name -> module, imported
on first use through PEP 562 ``__getattr__``) and in an ``if TYPE_CHECKING:`` block (the same
names imported from the same modules, so mypy, pyright and IDEs see the real signatures).
These tests keep the two lists the same, check that every name resolves, that
``import assetmap`` stays lazy, and that mypy, run on a user's script, sees the real types
(the package ships ``py.typed``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import assetmap as am

INIT = Path(am.__file__)


def _api_from_source() -> dict[str, str]:
    """``_API`` as written in ``__init__.py`` (read with ast, not imported)."""
    for node in ast.parse(INIT.read_text("utf-8")).body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "_API":
            return ast.literal_eval(node.value)
    raise AssertionError("no `_API: dict[str, str] = {...}` in assetmap/__init__.py")


def _type_checking_imports() -> list[tuple[str, str, str | None]]:
    """(module, name, alias) of each import under ``if TYPE_CHECKING:`` in ``__init__.py``."""
    found = []
    for node in ast.parse(INIT.read_text("utf-8")).body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                assert stmt.level == 0, ast.unparse(stmt)  # absolute imports only
                found += [(stmt.module, alias.name, alias.asname) for alias in stmt.names]
    assert found, "no `if TYPE_CHECKING:` imports in assetmap/__init__.py"
    return found


def test_type_checking_imports_name_the_same_modules_as_api():
    api = _api_from_source()
    imports = _type_checking_imports()
    typed = {name: module for module, name, _ in imports}
    assert len(typed) == len(imports), "a name is imported twice under TYPE_CHECKING"
    missing = {n: m for n, m in api.items() if n not in typed}
    extra = {n: m for n, m in typed.items() if n not in api}
    moved = {n: (api[n], typed[n]) for n in api.keys() & typed.keys() if api[n] != typed[n]}
    assert not missing, f"in _API, not imported under TYPE_CHECKING: {missing}"
    assert not extra, f"imported under TYPE_CHECKING, not in _API: {extra}"
    assert not moved, f"_API and TYPE_CHECKING name different modules (_API, import): {moved}"
    # `from m import x as x`: an explicit re-export, also under mypy --no-implicit-reexport
    assert [n for _, n, alias in imports if alias != n] == []


def test_api_in_source_is_the_one_at_run_time():
    assert _api_from_source() == am._API
    assert set(am._API) <= set(am.__all__)
    assert set(am.__all__) <= set(dir(am))


@pytest.mark.parametrize("name", sorted(am._API))
def test_every_api_name_resolves(name):
    defined = getattr(importlib.import_module(am._API[name]), name)
    assert getattr(am, name) is defined
    assert callable(defined)
    assert inspect.getdoc(defined), f"{name} has no docstring"


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'load_everything'"):
        am.load_everything  # noqa: B018


def test_import_stays_lazy():
    code = "import sys, json, assetmap; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    loaded = set(json.loads(done.stdout))
    assert "assetmap" in loaded
    assert not loaded & set(am._API.values()), "a public module is imported by `import assetmap`"
    assert not {m.partition(".")[0] for m in loaded} & {"pandas", "numpy", "geopandas"}


def test_the_wheel_ships_the_py_typed_marker():
    # the wheel's file selection, as hatchling makes it (tests/test_packaging.py builds one)
    from hatchling.builders.wheel import WheelBuilder

    root = Path(__file__).resolve().parents[1]
    selected = {f.distribution_path for f in WheelBuilder(str(root)).recurse_included_files()}
    assert "assetmap/__init__.py" in selected
    assert "assetmap/py.typed" in selected


BAD = """\
import assetmap as am

demo: int = am.load_demo()
"""

GOOD = """\
import geopandas as gpd

import assetmap as am


def tracts_of(study: am.Study) -> object:
    return study


demo = am.load_demo()
fips: str = am.state_fips("TX")
tracts: gpd.GeoDataFrame = demo.tracts
"""


@pytest.mark.slow
def test_mypy_sees_the_real_types_of_the_public_api(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "good.py").write_text(GOOD)
    # run in tmp_path so no project config applies: a user's script against the installed
    # package, under --strict (which includes --no-implicit-reexport)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports",
         "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary",
         "--show-error-codes", "bad.py", "good.py"],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    errors = [line for line in done.stdout.splitlines() if ": error:" in line]
    assert done.returncode == 1, done.stdout + done.stderr
    assert len(errors) == 1, done.stdout
    assert errors[0].startswith("bad.py:3: error: Incompatible types in assignment "
                                '(expression has type "Sources", variable has type "int")'), \
        done.stdout
    assert errors[0].endswith("[assignment]")
