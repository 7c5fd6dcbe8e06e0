"""The output writers' fast paths give what the slow ones gave: colours, pixels, CSV cells, text.

Each fast path is checked against an independent computation: matplotlib's own colormaps,
Pillow reading the PNG back, hand-written CSV cells, and the literal text a user typed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/ helper modules
import outputs_fixtures as fx

import assetmap as am
from assetmap._csvsafe import (  # internal: cell-level checks a written CSV file cannot show
    neutralize_formulas,
    neutralize_frame,
)
from assetmap.outputs._png import write_png  # internal: the PNG fast path, checked on raw pixels
from assetmap.outputs._ramps import RAMPS, ramp_colors  # internal: colour ramps vs matplotlib's


@pytest.mark.parametrize("name", [*RAMPS, *(f"{n}_r" for n in RAMPS)])
def test_ramps_equal_matplotlib_colormaps(name):
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    positions = [0.0, 0.2, 0.6, 0.9, 1.0, *np.linspace(0, 1, 257).tolist()]
    for n in range(1, 13):  # the positions palette() asks for
        positions += (np.linspace(0.2, 0.9, n) if n > 1 else np.array([0.6])).tolist()
    expected = [to_hex(colormaps[name](float(p))) for p in positions]
    assert ramp_colors(name, positions) == expected


def test_unknown_ramp_is_left_to_matplotlib():
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    from assetmap.outputs._classes import palette  # internal: the fallback inside the map legend

    assert ramp_colors("viridis", [0.5]) is None
    assert palette("viridis", 1) == [to_hex(colormaps["viridis"](0.6))]


@pytest.mark.parametrize("alpha", [255, 128])
def test_write_png_round_trips_pixels_and_dpi(tmp_path, alpha):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 256, size=(37, 53, 4), dtype=np.uint8)
    image[..., 3] = 255
    image[0, 0, 3] = alpha
    out = write_png(tmp_path / "x.png", image, dpi=300, metadata={"Software": "test"})
    with Image.open(out) as im:
        assert im.size == (53, 37)
        assert im.mode == ("RGB" if alpha == 255 else "RGBA")
        assert im.info["Software"] == "test"
        assert round(im.info["dpi"][0]) == 300
        assert (np.asarray(im.convert("RGBA")) == image).all()


def test_print_map_png_pixels_equal_savefig_and_no_pyplot(tmp_path):
    """The PNG equals what ``savefig`` wrote; neither the map nor the web map needs pyplot."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from PIL import Image
        sys.path.insert(0, {str(Path(fx.__file__).parent)!r})
        import outputs_fixtures as fx
        from matplotlib.figure import Figure
        import assetmap as am

        scored = fx.scored_ector()
        figures = []
        real = Figure.savefig
        Figure.savefig = lambda self, *a, **k: (figures.append(self), real(self, *a, **k))
        out = am.print_map(scored, {str(tmp_path / "m.png")!r}, dpi=40,
                               also=[{str(tmp_path / "m.pdf")!r}])
        figures[0].savefig({str(tmp_path / "ref.png")!r}, dpi=40)
        a = np.asarray(Image.open(out).convert("RGBA"))
        b = np.asarray(Image.open({str(tmp_path / "ref.png")!r}).convert("RGBA"))
        assert a.shape == b.shape == (int(8.5 * 40), 11 * 40, 4), a.shape
        assert (a == b).all()
        am.equity_map(scored, tiles=None).get_root().render()
        print(sorted(m for m in ("matplotlib.pyplot", "folium.plugins") if m in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_map_text_is_never_run_as_a_template():
    title = "Ector {{ 7*7 }} County {% if true %}x{% endif %} {# note #}"
    sites = fx.sites_ector(names=["{{ config }}", "Library {{ 6*7 }}"])
    html = am.equity_map(fx.scored_ector(), sites=sites, title=title, tiles=None,
                         change_since="{{ 1+1 }}").get_root().render()
    assert "Ector {{ 7*7 }} County {% if true %}x{% endif %} {# note #}" in html
    assert "Library {{ 6*7 }}" in html
    assert "Library 42" not in html
    assert "Ector 49" not in html


def test_neutralize_frame_by_hand():
    frame = pd.DataFrame(
        {
            "s": pd.Series(["=1+1", "-0.5", " -3 ", "@x", "ok", None], dtype="str"),
            "o": pd.Series([-1, "=A1", ["=x"], None, "+ 2", "\tx"], dtype=object),
            "n": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "=c": ["a", "b", "c", "d", "e", "f"],
        }
    )
    out = neutralize_frame(frame)
    assert out["s"].tolist()[:5] == ["'=1+1", "-0.5", " -3 ", "'@x", "ok"]
    assert pd.isna(out["s"].iat[5])
    assert out["o"].tolist()[:3] == [-1, "'=A1", ["=x"]]
    assert out["o"].iat[3] is None
    assert out["o"].tolist()[4:] == ["'+ 2", "'\tx"]
    assert out["n"].tolist() == frame["n"].tolist()
    assert list(out.columns) == ["s", "o", "n", "'=c"]
    assert out["'=c"].dtype == frame["=c"].dtype  # a column with nothing to change keeps its dtype
    assert frame["s"].iat[0] == "=1+1"  # input untouched
    assert neutralize_formulas(frame["s"]).dtype == object
