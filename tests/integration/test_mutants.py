"""The mutation harness (benchmarks/mutants.py) kills every mutant and passes every allowed rewrite.

Two profiles keep it short (the harness runs all four in about a minute); between them they have mutants of
every class issue 9 names. A mutant that survives, or a rewrite the documents allow that fails, fails here
with the harness's own line for it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def test_every_mutant_is_killed_and_every_allowed_rewrite_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.mutants", "--profiles", "aistore", "seldon"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        m["cls"]: m
        for m in (
            re.match(r"^(?P<cls>[\w-]+)\s+(killed|passed)\s+(?P<cells>.*)$", line)
            for line in result.stdout.splitlines()
        )
        if m
    }
    kinds = ("for", "sustain", "routing", "aggregation")
    for cls in (*kinds, "undocumented-for", "inclusive", "redundant-matcher", "undocumented-setting"):
        done, total = rows[cls]["cells"].split()[-1].split("/")
        assert int(total) > 0 and done == total, f"{cls}: {rows[cls].group(0)}"
