"""``--conformance-report`` on a static-only run writes the report from depths 1 to 4."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.needs_binaries,
    pytest.mark.skipif(shutil.which("promtool") is None or shutil.which("amtool") is None, reason="needs promtool"),
]


def test_static_run_writes_report_and_contract(pytester: pytest.Pytester, mini: Path) -> None:
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    report = json.loads((out / "report.json").read_text())
    assert list(report) == ["profile", "time_scale", "alerts", "noise"]
    (row,) = report["alerts"]
    assert row["alert"] == "ApiDown" and row["verdict"] == "pass" and row["reason"] == ""
    # up==0 for 2m, evaluated every 30s: the first firing evaluation is 2m after the scrape that saw it down.
    assert row["predicted_fire_s"] == 120.0
    assert row["documented_threshold_s"] == 120.0
    assert row["receiver"] == "default/pager"
    contract = json.loads((out / "contract.json").read_text())
    assert contract["alerts"][0]["for"] == {"seconds": 120.0, "documented": True, "note": ""}
    assert "ApiDown" in (out / "report.html").read_text()


def test_static_report_marks_a_failing_alert(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 10m"))
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (row,) = json.loads((out / "report.json").read_text())["alerts"]
    assert row["verdict"] == "fail"
    assert "for: 10m is looser than the documented 2m" in row["reason"]
