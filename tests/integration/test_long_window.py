"""An alert that reads a recorded ratio over 30 days runs at depth 3 within the default budget, on the coarse grid
(conformance.static.grid), and passes: the 30-day warm-up and the fault held past a whole window are simulated."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")

SLO = Path(__file__).parents[1] / "data" / "slo-30d" / "profile.yaml"


def test_a_30_day_slo_alert_runs_within_the_default_budget_and_passes(pytester: pytest.Pytester) -> None:
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--profile",
        str(SLO),
        "-m",
        "static",
        "-p",
        "no:randomly",
        "-v",
        "--conformance-report",
        str(pytester.path / "report"),
    )
    wall = time.monotonic() - started
    output = result.stdout.str()
    estimate = next((line for line in output.splitlines() if "depth 3 estimate" in line), "")
    print(f"{estimate.strip()}; ran in {wall:.0f}s")  # the cost, for whoever reads -s
    assert result.ret == pytest.ExitCode.OK, output
    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes and "error" not in outcomes, outcomes
    assert "depth 3 would need" not in output
    assert estimate, output
    assert (
        "ApiAvailabilityBudgetBurn[critical] reads 30d back: depth 3 runs it on the coarse grid "
        "(input every 30s, evaluation every 5m)" in output
    ), output
    result.stdout.fnmatch_lines(["*test_behaviour*ApiAvailabilityBudgetBurn* PASSED*"])
    # Fires once 43 minutes of the 30-day window are down (0.1%), then after the `for`, on the 5-minute grid.
    report = json.loads((pytester.path / "report" / "report.json").read_text())
    [alert] = report["alerts"]
    assert alert["verdict"] == "pass" and 43 * 60 + 120 <= alert["predicted_fire_s"] <= 43 * 60 + 120 + 2 * 300
