"""Shared test fixtures: offline hub settings and access to ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from core.paths import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder; tests that need it skip with a reason when it is absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is absent (set BB_SHARED to its location to run this test)")
    return path
