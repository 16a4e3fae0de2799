"""Helpers for running the plugin in a subprocess on a copy of the mini profile."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

MINI = Path(__file__).parent / "data" / "mini"


@pytest.fixture
def mini(pytester: pytest.Pytester) -> Path:
    """A fresh, editable copy of the one-alert profile in pytester's temporary folder (outside the repository)."""
    target = pytester.path / "mini"
    shutil.copytree(MINI, target)
    return target
