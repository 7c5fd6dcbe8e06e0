"""The study pipeline: the study file, the stages run in order (load, analyse, write), the manifest.

This package and :mod:`assetmap.cli` are the only places that wire loaders, analysis and
outputs together.
"""

from assetmap.pipeline.study import Study, StudyResult, demo_study, run_demo

__all__ = ["Study", "StudyResult", "demo_study", "run_demo"]
