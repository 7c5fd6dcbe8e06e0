"""A BEAD rule set as the fast engine's kernel arguments, built in this one place.

The kernels that classify offers (:func:`assetmap.bdc.fast.csv_parser.parse_csv`,
:func:`assetmap.bdc.fast.columns.parse_columns`,
:func:`assetmap.bdc.fast.sorted_kernel.fold_unit`, all through
:func:`assetmap.bdc.fast.parse._offer`) take the rule set as data, an argument of each call,
never as a module global: numba compiles a global array into the machine code, and its
on-disk cache (``cache=True``) could then keep an old rule after an edit.

The arguments (:data:`KernelRules`), from a :class:`assetmap.bdc.rules.RuleSet`:

* ``tech_bit`` (int64[256]): the offer-mask bit of each technology code's group, in the order
  of :data:`assetmap.bdc.rules.GROUPS` (copper 1, cable 2, fiber 4, licensed_fw 8,
  unlicensed_fw 16, satellite 32, other 64); 0 for a code that is not a BDC technology code
  (the kernels then hand the state to the DuckDB engine);
* ``reliable`` (uint8[256]): 1 for each reliable code (per code, not per group: a rule set may
  make 71 reliable and not 72);
* ``thresholds`` (float64[4]): underserved download, upload, served download, upload, in Mbps
  (fractions allowed; the kernels compare each whole-number speed as a float, exactly);
* ``latency`` (int): 1 when a reliable offer must also be low latency.

Each kernel turns the arrays, once per call, into one table of a word per code
(:func:`assetmap.bdc.fast.parse.offer_table`: the group bit and whether the code is reliable,
with or without low latency), so that an offer costs one load. Bits 128 and 256 of an offer
mask keep their meaning: a reliable offer reaches the underserved, the served thresholds.
"""

from __future__ import annotations

import numpy as np

from assetmap.bdc.rules import GROUPS, RulesLike, rule_set, technology_group, technology_names

__all__ = ["KernelRules", "rule_arrays"]

#: (tech_bit, reliable, thresholds, latency), as every classifying kernel takes them
KernelRules = tuple[np.ndarray, np.ndarray, np.ndarray, int]


def rule_arrays(rules: RulesLike = None) -> KernelRules:
    """Return a rule set as the fast engine's kernel arguments.

    Parameters
    ----------
    rules : str, mapping, RuleSet or None
        Anything :func:`assetmap.bdc.rules.rule_set` takes (None: ``"bead"``).

    Returns
    -------
    tuple
        ``(tech_bit, reliable, thresholds, latency)``: new arrays on every call (see the
        module's description).

    Examples
    --------
    >>> tech_bit, reliable, thresholds, latency = rule_arrays("bead")
    >>> int(tech_bit[50]), int(tech_bit[72]), int(reliable[72]), int(reliable[70])
    (4, 8, 1, 0)
    >>> thresholds.tolist(), latency
    ([25.0, 3.0, 100.0, 20.0], 1)
    >>> custom = rule_arrays({"reliable_technologies": [50, 71], "low_latency_required": False,
    ...                       "served": [50, 10], "underserved": [24.6, 1]})
    >>> int(custom[1][71]), int(custom[1][72]), custom[2].tolist(), custom[3]
    (1, 0, [24.6, 1.0, 50.0, 10.0], 0)
    """
    chosen = rule_set(rules)
    tech_bit = np.zeros(256, dtype=np.int64)
    for code in technology_names():
        if 0 <= code < 256:  # a larger code is never parsed here: its rows go to DuckDB
            tech_bit[code] = 1 << GROUPS.index(technology_group(code))
    reliable = np.zeros(256, dtype=np.uint8)
    for code in chosen.reliable_technologies:
        if 0 <= code < 256:
            reliable[code] = 1
    thresholds = np.array([*chosen.underserved, *chosen.served], dtype=np.float64)
    return tech_bit, reliable, thresholds, int(chosen.low_latency_required)
