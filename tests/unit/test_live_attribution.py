"""Notifications and alerts are attributed to the run whose predicted labels they carry."""

from __future__ import annotations

from conformance.model.contract import AlertContract, DocumentedDuration, Source
from conformance.model.prediction import Prediction
from conformance.model.run import ScenarioRun
from conformance.model.scenario import Scenario, Target
from conformance.observe.attribution import claims


def run(labels: tuple[dict[str, str], ...], severity: str = "warning") -> ScenarioRun:
    scenario = Scenario("s", "crash-loop", Target(namespace="ns", workload="w", container="c"))
    alert = AlertContract(
        "A", severity, "", Source("x", "y", "z"), None, DocumentedDuration(0, True), None, {}, (scenario,)
    )
    return ScenarioRun(alert, scenario, 3, Prediction(alert.key, "A", "s", 3, 60, 30, 60, 90, labels))


def test_claims_by_predicted_labels() -> None:
    mine = run(({"alertname": "A", "pod": "w-1", "prometheus": "monitoring/k8s"},))
    assert claims(mine, {"alertname": "A", "pod": "w-1", "severity": "warning", "job": "x"})
    assert not claims(mine, {"alertname": "A", "pod": "w-2"})
    assert not claims(mine, {"alertname": "B", "pod": "w-1"})
    assert not claims(mine, {"alertname": "A", "pod": "w-1", "severity": "critical"})


def test_without_predicted_labels_the_alert_name_decides() -> None:
    assert claims(run(()), {"alertname": "A", "pod": "anything"})


def test_generated_names_match_by_their_owner() -> None:
    """A CronJob's Job is named after the minute it ran, a pod after its ReplicaSet and a random suffix: the
    live run's names differ from depth 3's for the same scenario."""
    job = run(({"alertname": "A", "job_name": "postgres-backup-28333349", "namespace": "ml"},))
    assert claims(job, {"alertname": "A", "job_name": "postgres-backup-28333348", "namespace": "ml"})
    assert not claims(job, {"alertname": "A", "job_name": "restore-28333348", "namespace": "ml"})
    pod = run(({"alertname": "A", "pod": "churn-api-7d9f8b6c5d-x2k4q", "instance": "10.0.0.1:80"},))
    assert claims(pod, {"alertname": "A", "pod": "churn-api-5c8d7f9b4a-q7w2e", "instance": "10.0.0.9:80"})
    assert not claims(pod, {"alertname": "A", "pod": "mlflow-7d9f8b6c5d-x2k4q", "instance": "10.0.0.1:80"})
    stateful = run(({"alertname": "A", "pod": "postgres-0"},))
    assert not claims(stateful, {"alertname": "A", "pod": "postgres-1"})


def test_a_run_predicted_with_labels_takes_the_instance_from_one_predicted_without() -> None:
    """A scenario documented to stay silent never fired at depth 3, so it has no labels: the instance its sibling
    scenario raised is the sibling's, not a failure of the silent one (both watch the same alert in one lane)."""
    from dataclasses import dataclass

    from conformance.observe.attribution import owners

    @dataclass
    class Item:
        run: ScenarioRun

    firing, silent = Item(run(({"alertname": "A", "pod": "w-1"},))), Item(run(()))
    assert owners([silent, firing], {"alertname": "A", "pod": "w-1"}) == [firing]
    # An instance only the silent run can claim (its own fault raised the alert) is still its.
    assert owners([silent, firing], {"alertname": "A", "pod": "other-1"}) == [silent]
