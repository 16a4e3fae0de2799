"""Notifications and alerts are attributed to the run whose predicted labels they carry."""

from __future__ import annotations

from conformance.backends.base import ScenarioRun
from conformance.live.attribution import claims
from conformance.model.contract import AlertContract, DocumentedDuration, Source
from conformance.model.prediction import Prediction
from conformance.model.scenario import Scenario, Target


def run(labels: tuple[dict[str, str], ...], severity: str = "warning") -> ScenarioRun:
    scenario = Scenario("s", "crash-loop", Target(namespace="ns", workload="w", container="c"))
    alert = AlertContract("A", severity, "", Source("x", "y", "z"), None, DocumentedDuration(0, True), None,
                          {}, (scenario,))
    return ScenarioRun(alert, scenario, 3, Prediction(alert.key, "A", "s", 3, 60, 30, 60, 90, labels))


def test_claims_by_predicted_labels() -> None:
    mine = run(({"alertname": "A", "pod": "w-1", "prometheus": "monitoring/k8s"},))
    assert claims(mine, {"alertname": "A", "pod": "w-1", "severity": "warning", "job": "x"})
    assert not claims(mine, {"alertname": "A", "pod": "w-2"})
    assert not claims(mine, {"alertname": "B", "pod": "w-1"})
    assert not claims(mine, {"alertname": "A", "pod": "w-1", "severity": "critical"})


def test_without_predicted_labels_the_alert_name_decides() -> None:
    assert claims(run(()), {"alertname": "A", "pod": "anything"})
