"""A live report row: an aggregate that fails names the alerts it reads that were on while the cluster was healthy;
an alert documented to fire all the time names the receiver it was routed to."""

from __future__ import annotations

from test_live_verdict import expectation

from conformance.model.run import Observation, ScenarioRun
from conformance.observe.backend import NoiseFinding, RunResult
from conformance.observe.expectations import ReceiverExpectation
from conformance.profiles import load_profile
from conformance.report.live_rows import live_row


def test_a_failing_aggregate_names_the_inner_alert_firing_on_the_healthy_cluster() -> None:
    profile = load_profile("runai")
    aggregate = profile.alert("RunaiCriticalProblem")
    run = ScenarioRun(aggregate, aggregate.scenarios[0], None, None)  # type: ignore[arg-type]
    observed = Observation(
        "RunaiCriticalProblem[critical]:cordon-node",
        True,
        firing_s=-20.0,
        timeline=[(-20.0, "firing (healthy cluster)")],
    )
    noise = [
        NoiseFinding("RunaiNodeUnknownState", {"node": "gpu-node-1"}, "firing", True),
        NoiseFinding("KubeAPIDown", {}, "pending", False),
    ]
    result = RunResult(run, expectation(fire_s=30.0), observed)
    row = live_row(aggregate, [result], None, 20.0, reads=("RunaiNodeUnknownState",), noise=noise)
    assert row.verdict == "fail"
    assert row.reason.splitlines()[-1] == (
        'the alerts it reads, on the healthy cluster: RunaiNodeUnknownState{node="gpu-node-1"} firing on the '
        "healthy cluster"
    )
    assert "KubeAPIDown" not in row.reason


QUIET = ReceiverExpectation("chart/null", False, 30.0, 300.0)


def _watchdog(receiver: ReceiverExpectation, quiet: frozenset[str]) -> RunResult:
    """Watchdog (fault ``none``): its only post came as the stack started, while the cluster was healthy."""
    profile = load_profile("kube-prometheus")
    alert = profile.alert("Watchdog")
    run = ScenarioRun(alert, alert.scenarios[0], None, None)  # type: ignore[arg-type]
    observed = Observation(
        run.id,
        True,
        firing_s=0.4,
        timeline=[
            (-8.0, "firing (healthy cluster)"),
            (-6.5, f"notified {receiver.name} (healthy cluster)"),
            (0.4, "firing"),
        ],
    )
    always = expectation(
        run_id=run.id,
        fire_s=None,
        receivers=(receiver,),
        always=True,
        notifies=not quiet,
        quiet_receivers=quiet,
    )
    return RunResult(run, always, observed)


def test_an_always_firing_alert_names_the_receiver_it_was_routed_to() -> None:
    result = _watchdog(QUIET, frozenset({"chart/null"}))
    row = live_row(result.run.alert, [result], None, 10.0)
    assert row.verdict == "pass", row.reason
    assert row.receiver == "routed to chart/null"
    assert row.notifications == {}
    # The timeline says the same: routed, nobody notified (before the fault, as the stack started).
    assert (-6.5, "routed to chart/null (no integration: nobody notified) (healthy cluster)") in row.timeline


def test_an_always_firing_alert_that_notifies_names_its_receiver_plainly() -> None:
    pager = ReceiverExpectation("chart/cluster-alerts", False, 30.0, 300.0)
    result = _watchdog(pager, frozenset())
    row = live_row(result.run.alert, [result], None, 10.0)
    assert row.verdict == "pass", row.reason
    assert row.receiver == "chart/cluster-alerts"
