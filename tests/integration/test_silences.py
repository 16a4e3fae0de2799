"""What must not notify: an alert routed to a receiver with no integration (an info alert's ``null``), and a failure
the document says must not raise an alert (``expect: silent``), proven at every depth, live included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_binaries("promtool", "amtool", "prometheus", "alertmanager")

HEARTBEAT_RULE = """\
      - alert: ApiDownInfo
        expr: up{job="api"} == 0
        for: 1m
        labels: {severity: info}
        annotations: {summary: "api target {{ $labels.instance }} is down (for the record)"}
      - alert: Watchdog
        expr: vector(1)
        labels: {severity: none}
        annotations: {summary: the whole alerting pipeline works; this alert fires all the time}
"""

HEARTBEAT_ENTRY = """\
  - name: ApiDownInfo
    severity: info
    meaning: a record that the api is down; routed to the null receiver, which notifies nobody
    source: {seed: none, section: test, quote: "info alerts go to null"}
    for: {value: 1m, documented: true}
    receivers: {default: "null"}
    notifies: false
    scenarios:
      - fault: target-down
        target: {namespace: shop, workload: api}
  - name: Watchdog
    severity: none
    meaning: always firing, to prove the pipeline works; it must page nobody
    source: {seed: none, section: test, quote: "This alert is always firing"}
    for: {value: 0s, documented: true}
    receivers: {default: "null"}
    notifies: false
    scenarios:
      - fault: none
"""

CORDON_IS_NO_OUTAGE = """\
      - id: cordon-is-no-outage
        fault: cordon-node
        target: {node: worker-1}
        expect: silent
"""

NULL_ROUTE = """\
route:
  receiver: pager
  group_by: [alertname]
  group_wait: 10s
  routes:
    - receiver: "null"
      matchers: ['alertname =~ "ApiDownInfo|Watchdog"']
receivers:
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:1/pager
  - name: "null"
"""


def _silences(mini: Path) -> None:
    """The mini profile plus an info alert routed to null and a cordon documented not to raise ApiDown."""
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(rules.read_text() + HEARTBEAT_RULE)
    (mini / "pack" / "alertmanager.yaml").write_text(NULL_ROUTE)
    profile = mini / "profile.yaml"
    profile.write_text(profile.read_text() + CORDON_IS_NO_OUTAGE + HEARTBEAT_ENTRY)


@pytest.mark.live
def test_an_info_alert_routed_to_null_notifies_nobody_and_a_silent_scenario_stays_silent_live(
    pytester: pytest.Pytester, mini: Path
) -> None:
    _silences(mini)
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), f"--conformance-report={report}")
    result.assert_outcomes(passed=17, skipped=2)  # no replicas, no system worker lost: those two items skip
    rows = {row["alert"]: row for row in json.loads((report / "report.json").read_text())["alerts"]}
    # Routed to null: a real Alertmanager sends nothing there, so nothing is counted as a notification.
    assert rows["ApiDownInfo"]["verdict"] == "pass"
    assert rows["ApiDownInfo"]["notifications"] == {}
    assert rows["Watchdog"]["verdict"] == "pass"
    assert rows["Watchdog"]["notifications"] == {}
    noise = json.loads((report / "report.json").read_text())["noise"]
    assert [(item["alert"], item["state"], item["expected"]) for item in noise] == [("Watchdog", "firing", True)]
    assert rows["ApiDown"]["verdict"] == "pass"
    assert rows["ApiDown"]["notifications"] == {"default/pager": {"firing": 1, "resolved": 1}}
    # The silent scenario's own verdict, at depth 3 and live; a receiver without integration is "routed to".
    silent = [(s["scenario"], s["depth"], s["verdict"]) for s in rows["ApiDown"]["silent_scenarios"]]
    assert silent == [("cordon-is-no-outage", "behaviour", "pass"), ("cordon-is-no-outage", "live", "pass")]
    assert rows["Watchdog"]["receiver"] == rows["ApiDownInfo"]["receiver"] == "routed to default/null"


def test_an_info_alert_that_pages_and_a_rule_that_fires_on_a_silent_scenario_fail(
    pytester: pytest.Pytester, mini: Path
) -> None:
    _silences(mini)
    loud = NULL_ROUTE.replace(
        '  - name: "null"\n', '  - name: "null"\n    webhook_configs: [{url: http://127.0.0.1:1/oncall}]\n'
    )
    (mini / "pack" / "alertmanager.yaml").write_text(loud)
    rules = mini / "pack" / "rules.yaml"
    rules.write_text(
        rules.read_text().replace('up{job="api"} == 0', 'up{job="api"} == 0 or on() kube_node_spec_unschedulable == 1')
    )
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={report}")
    result.stdout.fnmatch_lines(
        [
            "*silent case: cordon-node on node worker-1: fires * after the fault although the document says this "
            "failure must not raise it*",
        ]
    )
    rows = {row["alert"]: row for row in json.loads((report / "report.json").read_text())["alerts"]}
    (silent,) = rows["ApiDown"]["silent_scenarios"]
    assert (silent["scenario"], silent["depth"], silent["verdict"]) == ("cordon-is-no-outage", "behaviour", "fail")
    assert silent["detail"].endswith("after the fault although the document says this failure must not raise it")
    assert "Scenarios documented to stay silent" in (report / "report.html").read_text()
    result.stdout.fnmatch_lines(
        ['*{alertname="ApiDownInfo", *} reaches null (webhook), although the document says this alert notifies nobody*']
    )


def test_an_alert_whose_receiver_has_no_integration_is_listed_not_failed(pytester: pytest.Pytester, mini: Path) -> None:
    """kube-prometheus ships its receivers empty for its users to fill: said in the summary, not a failure."""
    (mini / "pack" / "alertmanager.yaml").write_text(
        "route: {receiver: pager, group_by: [alertname]}\nreceivers:\n  - name: pager\n"
    )
    report = pytester.path / "report"
    result = pytester.runpytest_subprocess("--profile", str(mini), "-m", "static", f"--conformance-report={report}")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    note = "reaches pager, which has no integration in this pack: nobody is notified until one is set"
    result.stdout.fnmatch_lines(["*alert-conformance: routing notes*", f"  ApiDown (default): {note}"])
    data = json.loads((report / "report.json").read_text())
    assert data["routing_notes"] == [{"alert": "ApiDown", "setup": "default", "note": note}]
    assert data["alerts"][0]["receiver"] == "routed to default/pager"
