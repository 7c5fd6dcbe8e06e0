"""BEAD service levels: the public names, gathered from the modules that compute them.

* :func:`service_levels`, :func:`service_by_area` (frames in memory):
  :mod:`assetmap.bdc.levels`;
* :func:`aggregate_bdc` (files streamed out of core): :mod:`assetmap.bdc.aggregate`;
* :func:`compare_releases` (two releases): :mod:`assetmap.bdc.compare`.

Each takes ``rules=`` (:func:`assetmap.bdc.rules.rule_set`: a name, a mapping or a
``RuleSet``; ``"bead"`` by default) and names it in its result's report.

Examples
--------
>>> from assetmap.bdc.service import service_levels
>>> service_levels.__module__
'assetmap.bdc.levels'
"""

from __future__ import annotations

from assetmap.bdc.aggregate import aggregate_bdc
from assetmap.bdc.compare import compare_releases
from assetmap.bdc.levels import service_by_area, service_levels

__all__ = ["aggregate_bdc", "compare_releases", "service_by_area", "service_levels"]
