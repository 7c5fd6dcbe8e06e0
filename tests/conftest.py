"""Shared fixtures: an isolated cache and settings for every test, and the shipped data."""

from __future__ import annotations

from pathlib import Path

import pytest

import assetmap as am
from assetmap.datasets import data_dir


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory):
    """Each test gets its own cache directory, fast retries and default settings.

    """
    cache = tmp_path_factory.mktemp("cache")
    with am.settings.override(cache_dir=cache, offline=False, backoff=0.01, timeout=5):
        yield


@pytest.fixture(scope="session")
def ector_dir() -> Path:
    """The shipped Ector County data directory."""
    return data_dir()
