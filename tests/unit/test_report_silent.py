"""A scenario documented to stay silent gets its own verdict in the report, at depth 3 and live."""

from __future__ import annotations

from pathlib import Path

from test_live_verdict import expectation

from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.model.run import Notification, Observation, ReplicaLoss, ScenarioRun
from conformance.observe.backend import LiveOutcome, RunResult
from conformance.profiles import load_profile
from conformance.report.live_rows import live_row, loss_row
from conformance.report.model import SilentVerdict
from conformance.report.silent import behaviour_silent, live_silent
from conformance.static.behaviour import AlertBehaviour, CaseVerdict, _judge
from conformance.static.cases import Timing, build_cases
from conformance.static.promtool_runner import Timeline

SILENCES = Path(__file__).parents[1] / "data" / "profiles" / "good" / "silences.yaml"
EVAL = 30.0
WHY = "although the document says this failure must not raise it"


def _api_down() -> AlertContract:
    """ApiDown: its target down must fire it; a cordoned node is documented not to (``cordon-is-no-outage``)."""
    return load_profile(str(SILENCES)).alert("ApiDown")


def _behaviour(silent_fires_after_s: float | None) -> AlertBehaviour:
    """Depth 3 on ApiDown: the fire case behaved; the silent case fired ``silent_fires_after_s`` after its fault."""
    alert = _api_down()
    fire, silent = build_cases(alert, Timing(EVAL, EVAL, 120, True, 0), 600.0)
    assert (fire.kind, silent.kind) == ("fire", "silent")
    timeline = Timeline()
    if silent_fires_after_s is not None:
        timeline.add(silent.fault_at_s + silent_fires_after_s, {"alertname": "ApiDown"})
    verdicts = [CaseVerdict(fire, Timeline()), _judge(silent, timeline, EVAL)]
    return AlertBehaviour(alert, verdicts)


def test_depth_3_says_each_silent_scenario_stayed_silent_or_what_fired() -> None:
    behaviour = _behaviour(None)
    held = format_duration(behaviour.verdicts[1].case.hold_s)
    assert behaviour_silent(behaviour) == [
        SilentVerdict(
            "cordon-is-no-outage",
            "behaviour",
            "pass",
            f"stayed silent as documented: never fired in the {held} the fault was held, nor after its revert",
        )
    ]
    assert behaviour_silent(_behaviour(150.0)) == [
        SilentVerdict("cordon-is-no-outage", "behaviour", "fail", f"fires 2m30s after the fault {WHY}")
    ]


def test_a_silent_scenario_depth_3_could_not_run_is_a_skip_with_the_reason() -> None:
    behaviour = AlertBehaviour(_api_down(), problem="the pack has no alerting rule named ApiDown")
    assert behaviour_silent(behaviour) == [
        SilentVerdict("cordon-is-no-outage", "behaviour", "skip", "the pack has no alerting rule named ApiDown")
    ]


def _silent_result(alert: AlertContract, firing_s: float | None) -> RunResult:
    cordon = alert.scenarios[1]
    run = ScenarioRun(alert, cordon, None, None)  # type: ignore[arg-type]
    timeline = [(60.0, "reverted")] if firing_s is None else [(firing_s, "firing"), (60.0, "reverted")]
    observed = Observation(run.id, True, firing_s=firing_s, reverted_s=60.0, timeline=timeline)
    return RunResult(run, expectation(run_id=run.id, fire_s=None, receivers=(), silent=True), observed)


def _fire_result(alert: AlertContract) -> RunResult:
    run = ScenarioRun(alert, alert.scenarios[0], None, None)  # type: ignore[arg-type]
    observed = Observation(
        run.id,
        True,
        firing_s=29.0,
        notified_s=33.0,
        reverted_s=36.0,
        notifications=[
            Notification(33.0, "main/team", "firing", {}),
            Notification(45.0, "main/team", "resolved", {}),
        ],
        timeline=[(29.0, "firing"), (33.0, "notified main/team"), (36.0, "reverted")],
    )
    return RunResult(run, expectation(run_id=run.id), observed)


def test_the_live_row_and_report_json_carry_the_silent_scenarios_verdict_beside_depth_3s() -> None:
    alert = _api_down()
    results = [_fire_result(alert), _silent_result(alert, None)]
    row = live_row(alert, results, None, 10.0, behaviour=_behaviour(None))
    assert row.verdict == "pass", row.reason
    assert [(s.scenario, s.depth, s.verdict) for s in row.silent_scenarios] == [
        ("cordon-is-no-outage", "behaviour", "pass"),
        ("cordon-is-no-outage", "live", "pass"),
    ]
    assert row.to_json()["silent_scenarios"][1] == {
        "scenario": "cordon-is-no-outage",
        "depth": "live",
        "verdict": "pass",
        "detail": "stayed silent as documented: neither fired nor notified from the fault to its revert at 60.00s",
    }


def test_a_silent_scenario_that_fires_live_fails_on_its_own_entry() -> None:
    alert = _api_down()
    row = live_row(alert, [_fire_result(alert), _silent_result(alert, 41.5)], None, 10.0)
    assert row.verdict == "fail"
    assert row.silent_scenarios == [
        SilentVerdict("cordon-is-no-outage", "live", "fail", f"fired at 41.50s {WHY}"),
    ]


def test_a_row_over_several_alerts_names_each_silent_run_by_its_run() -> None:
    alert = _api_down()
    assert [s.scenario for s in live_silent([_silent_result(alert, None)], by_run=True)] == [
        "ApiDown[critical]:cordon-is-no-outage"
    ]
    loss = ReplicaLoss("prometheus", "pending")
    results = [_fire_result(alert), _silent_result(alert, None)]
    row = loss_row(loss, results, LiveOutcome("twin", 10.0, results))
    assert [s.scenario for s in row.silent_scenarios] == ["ApiDown[critical]:cordon-is-no-outage"]
