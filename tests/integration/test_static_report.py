"""``--conformance-report`` on a static-only run writes the report from depths 1 to 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")


def test_static_run_writes_report_and_contract(pytester: pytest.Pytester, mini: Path) -> None:
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    report = json.loads((out / "report.json").read_text())
    assert list(report) == ["profile", "time_scale", "alerts", "noise", "coverage", "routing_notes"]
    assert report["coverage"] == {} and report["routing_notes"] == []
    (row,) = report["alerts"]
    assert row["alert"] == "ApiDown" and row["verdict"] == "pass" and row["reason"] == ""
    assert row["silent_scenarios"] == []  # no scenario of it is documented to stay silent
    # up==0 for 2m, evaluated every 30s: the scrape 12s after the fault sees it down, the evaluation at 30s sees
    # that scrape, and the alert fires 2m later.
    assert row["predicted_fire_s"] == 150.0
    assert row["documented_threshold_s"] == 120.0
    assert row["receiver"] == "default/pager"
    contract = json.loads((out / "contract.json").read_text())
    assert contract["alerts"][0]["for"] == {"seconds": 120.0, "documented": True, "quote": "", "note": ""}
    assert "ApiDown" in (out / "report.html").read_text()


def test_static_report_marks_a_failing_alert(pytester: pytest.Pytester, mini: Path) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 10m"))
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    (row,) = json.loads((out / "report.json").read_text())["alerts"]
    assert row["verdict"] == "fail"
    assert "`for` 10m is longer than the documented 2m" in row["reason"]


WIDGET = """
      - alert: WidgetErrors
        expr: rate(widget_errors_total{job="api"}[5m]) > 0
        labels: {severity: warning}
        annotations: {summary: widgets fail}
"""


def test_coverage_names_the_selectors_no_series_matches_for_every_pack_alert(
    pytester: pytest.Pytester, mini: Path
) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text() + WIDGET)
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*alert-conformance coverage*",
            "1 of the pack's 2 alerts read series the simulated cluster never has:",
            '  WidgetErrors: widget_errors_total{job="api"}',
        ]
    )
    coverage = json.loads((out / "report.json").read_text())["coverage"]
    assert coverage == {"WidgetErrors": [f'widget_errors_total{{job="api"}} ({rules}:12)']}
    html = (out / "report.html").read_text()
    assert "<h2>Coverage</h2>" in html and "widget_errors_total{job=&quot;api&quot;}" in html


def test_a_documented_alert_reading_an_absent_series_names_it_in_its_reason(
    pytester: pytest.Pytester, mini: Path
) -> None:
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace('up{job="api"}', 'up{job="apy"}'))
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    result.stdout.fnmatch_lines(
        [
            "_*test_behaviour[[]mini:ApiDown[]]*",
            "fire case: target-down on shop/api: never fires within * of the fault (expected by *); its rules read "
            'series the simulated cluster never has: up{job="apy"} (*rules.yaml:4)',
        ]
    )
    result.stdout.fnmatch_lines(['  ApiDown (documented): up{job="apy"}'])


WEB = """
    - kind: Deployment
      name: web
      namespace: shop
      replicas: 1
      containers: [{name: web}]
      scrape: {job: web, port: 8080}
"""


def test_a_documented_alert_whose_fault_changes_nothing_it_reads_names_the_fault(
    pytester: pytest.Pytester, mini: Path
) -> None:
    """The fault takes the api's target down; the rule reads the web's, which no fault of the run touches."""
    profile = mini / "profile.yaml"
    profile.write_text(profile.read_text().replace("routing:", WEB.lstrip("\n") + "routing:", 1))
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace('up{job="api"}', 'up{job="web"}'))
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "_*test_behaviour[[]mini:ApiDown[]]*",
            "fire case: target-down on shop/api: never fires within * of the fault (expected by *); the fault "
            'target-down on shop/api changes none of the series its rules read (up{job="web"})',
        ]
    )


def test_the_contract_says_which_for_an_undocumented_duration_is_judged_with_and_why(
    pytester: pytest.Pytester, mini: Path
) -> None:
    """An undocumented ``for`` is the pack's to choose: the timing is judged with the pack's 3m, never in silence."""
    profile = mini / "profile.yaml"
    profile.write_text(
        profile.read_text().replace(
            "for: {value: 2m, documented: true}", "for: {value: 2m, documented: false, note: the runbook is silent}"
        )
    )
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text().replace("for: 2m", "for: 3m"))
    out = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={out}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (entry,) = json.loads((out / "contract.json").read_text())["alerts"]
    judged_for, judged_window = entry["judged_with"]
    assert judged_for["name"] == "for" and judged_for["seconds"] == 180.0 and not judged_for["documented"]
    assert judged_for["from"].startswith("the pack's rule at ") and judged_for["from"].endswith("rules.yaml:4")
    assert "the profile's 2m is not documented (the runbook is silent)" in judged_for["why"]
    assert judged_window == {
        "name": "window",
        "seconds": 0.0,
        "documented": False,
        "from": "no range in the rules",
        "why": "the profile states no window: the pack's own look-back bounds the time to fire",
    }
    (row,) = json.loads((out / "report.json").read_text())["alerts"]
    assert row["predicted_fire_s"] == 210.0  # the pack's 3m after the first evaluation that sees the fault
    assert "judged with 180s (the pack's own)" in (out / "report.html").read_text()
