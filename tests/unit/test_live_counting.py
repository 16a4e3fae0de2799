"""Notifications are counted, not assumed: one per receiver per alert group, carrying each alert once."""

from __future__ import annotations

from conformance.model.contract import AlertContract, DocumentedDuration, Source
from conformance.model.prediction import Prediction
from conformance.model.run import Notification, Observation, ScenarioRun
from conformance.model.scenario import Scenario, Target
from conformance.observe.attribution import instance_key
from conformance.observe.expectations import Expectation, ReceiverExpectation
from conformance.observe.verdict import duplicate_problems, judge, notification_counts

RECEIVER = ReceiverExpectation("main/team", True, 30.0, 300.0, repeat_interval_s=3600.0)
POD = 'alertname="A",pod="api-1"'


def expectation() -> Expectation:
    return Expectation("A[warning]:s", 10.0, 30.0, 1.5, 1.5, (RECEIVER,), 60.0, 2.0)


def sent(at: float, status: str, *instances: str, sender: str = "", entry: int = 0) -> Notification:
    return Notification(at, "main/team", status, {}, sender=sender, instances=list(instances), entry=entry)


def observation(*notifications: Notification) -> Observation:
    firing = min((n.at_s for n in notifications if n.status == "firing"), default=None)
    return Observation(
        "A[warning]:s",
        True,
        firing_s=29.0,
        notified_s=firing,
        reverted_s=36.0,
        notifications=list(notifications),
        timeline=[(29.0, "firing"), (36.0, "reverted")],
    )


def test_one_firing_and_one_resolved_notification_pass_and_are_counted() -> None:
    seen = observation(sent(33.0, "firing", POD, entry=1), sent(45.0, "resolved", POD, entry=2))
    verdict = judge(expectation(), seen)
    assert verdict.outcome == "pass", verdict.message()
    assert verdict.notifications == {"main/team": {"firing": 1, "resolved": 1}}
    assert notification_counts(seen) == verdict.notifications


def test_two_alertmanagers_that_each_notify_are_notified_twice() -> None:
    seen = observation(
        sent(33.0, "firing", POD, sender="am-0", entry=1),
        sent(33.1, "firing", POD, sender="am-1", entry=2),
        sent(45.0, "resolved", POD, entry=3),
    )
    verdict = judge(expectation(), seen)
    assert verdict.outcome == "fail"
    assert "notified main/team twice with the same alerts (at 33.00s and 33.10s, sent by am-0 and am-1)" in (
        verdict.problems
    )
    assert verdict.notifications["main/team"]["firing"] == 2


def test_the_same_alert_twice_in_one_notification_is_carried_twice() -> None:
    verdict = judge(expectation(), observation(sent(33.0, "firing", POD, POD), sent(45.0, "resolved", POD, POD)))
    assert verdict.outcome == "fail"
    assert any(p.startswith("one notification carried the alert twice: firing to main/team") for p in verdict.problems)


def test_two_instances_in_one_notification_and_a_later_group_update_are_not_duplicates() -> None:
    other = 'alertname="A",pod="api-2"'
    seen = observation(sent(33.0, "firing", POD, other), sent(40.0, "firing", POD), sent(45.0, "resolved", POD))
    assert duplicate_problems(expectation(), seen) == []


def test_a_repeat_after_repeat_interval_is_not_a_duplicate_but_a_resolved_twice_is() -> None:
    # repeat_interval 3600s at scale 10: 360s
    repeat = observation(sent(33.0, "firing", POD), sent(400.0, "firing", POD))
    assert duplicate_problems(expectation(), repeat) == []
    twice = observation(sent(33.0, "firing", POD), sent(45.0, "resolved", POD), sent(45.8, "resolved", POD))
    assert duplicate_problems(expectation(), twice) == [
        "sent the resolved notification to main/team twice with the same alerts (at 45.00s and 45.80s)"
    ]


def _run() -> ScenarioRun:
    scenario = Scenario("s", "crash-loop", Target(namespace="ns", workload="w", container="c"))
    alert = AlertContract(
        "A", "warning", "", Source("x", "y", "z"), None, DocumentedDuration(0, True), None, {}, (scenario,)
    )
    labels = ({"alertname": "A", "severity": "warning", "pod": "api-1"},)
    return ScenarioRun(alert, scenario, 3, Prediction(alert.key, "A", "s", 3, 60, 30, 60, 90, labels))


def test_a_label_only_one_replica_adds_does_not_make_another_instance() -> None:
    run = _run()
    base = {"alertname": "A", "severity": "warning", "pod": "api-1", "prometheus": "mon/x"}
    assert instance_key(run, {**base, "replica": "prometheus-x-0"}) == instance_key(
        run, {**base, "replica": "prometheus-x-1"}
    )
    assert instance_key(run, base) != instance_key(run, {**base, "pod": "api-2"})
