"""A live report row: an aggregate that fails names the alerts it reads that were on while the cluster was healthy."""

from __future__ import annotations

from test_live_verdict import expectation

from conformance.model.run import Observation, ScenarioRun
from conformance.observe.backend import NoiseFinding, RunResult
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
