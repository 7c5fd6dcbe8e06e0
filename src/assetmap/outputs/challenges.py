"""Write challenge candidates (``challenge_candidates``) as a CSV a spreadsheet opens safely.

Text cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
run as formulas by spreadsheet programs (CSV injection); they are written with a leading
apostrophe. Numbers are written as numbers. The geometry is left out of the CSV: the area
ids (census block GEOID or H3 cell id) identify the areas; use the GeoDataFrame itself (e.g.
``to_file(..., driver="GPKG")``) for the map layer.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from assetmap._csvsafe import neutralize_frame, write_csv

__all__ = ["neutralize_csv_cells", "write_challenge_csv"]


def neutralize_csv_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells cannot start a spreadsheet formula.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": ["=1+2", "ok", "-x"], "n": [-1, 2, 3]})
    >>> neutralize_csv_cells(frame).to_dict("list")
    {'a': ["'=1+2", 'ok', "'-x"], 'n': [-1, 2, 3]}
    """
    return neutralize_frame(frame)


def write_challenge_csv(candidates: pd.DataFrame, path: str | Path) -> Path:
    """Write challenge candidates to ``path`` as UTF-8 CSV, formula cells neutralised.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.csv"
    >>> _ = write_challenge_csv(pd.DataFrame({"brand_name": ["@net"], "rank": [1]}), p)
    >>> p.read_text().splitlines()
    ['brand_name,rank', "'@net,1"]
    """
    frame = pd.DataFrame(candidates.drop(columns="geometry", errors="ignore"))
    return write_csv(frame, path)
