"""A firing scenario's ``silent_for`` gets its own entry in the report (``silent_scenarios``), at depth 3 and live,
and the system-worker-loss row's reason says the scaled components stayed silent."""

from __future__ import annotations

from pathlib import Path

from test_live_verdict import expectation

from conformance.model.contract import AlertContract
from conformance.model.run import Notification, Observation, ScenarioRun, Unsilenced
from conformance.observe.backend import LiveOutcome, RunResult
from conformance.profiles import load_profile
from conformance.report.live_rows import live_row, worker_loss_row
from conformance.report.model import SilentVerdict
from conformance.report.silent import behaviour_silent
from conformance.static.behaviour import AlertBehaviour, _judge
from conformance.static.cases import Timing, build_cases
from conformance.static.promtool_runner import Timeline

PROFILE = Path(__file__).parents[1] / "data" / "profiles" / "good" / "silent-for.yaml"
EVAL = 30.0
NAME = 'node-lost, silent for {job="api-canary"}, {job="api-mirror", namespace="shop"}'
WHY = "although the document says it stays silent for it"


def _api_down() -> AlertContract:
    """ApiDown: a lost node fires it for the api, and the document says not for its canary or mirror."""
    return load_profile(str(PROFILE)).alert("ApiDown")


def _behaviour(canary_pending_after_s: float | None) -> AlertBehaviour:
    alert = _api_down()
    cases = build_cases(alert, Timing(EVAL, EVAL, 120, True, 0), 600.0)
    lost = next(case for case in cases if case.scenario.id == "node-lost")
    fired = {"alertname": "ApiDown", "job": "api"}
    timeline = Timeline([(lost.fault_at_s + at, fired) for at in range(150, int(lost.hold_s), int(EVAL))])
    if canary_pending_after_s is not None:
        labels = {"alertname": "ApiDown", "alertstate": "pending", "job": "api-canary"}
        timeline.watched.append((lost.fault_at_s + canary_pending_after_s, labels))
    return AlertBehaviour(alert, [_judge(lost, timeline, EVAL)])


def test_depth_3_gives_silent_for_its_own_entry_passed_or_naming_what_went_pending() -> None:
    passed = _behaviour(None)
    assert passed.ok, passed.reasons()
    [entry] = behaviour_silent(passed)
    assert (entry.scenario, entry.depth, entry.verdict) == (NAME, "behaviour", "pass")
    assert entry.detail.startswith("stayed silent as documented: neither pending nor firing for them in the ")
    failed = _behaviour(60.0)
    assert behaviour_silent(failed) == [
        SilentVerdict(NAME, "behaviour", "fail", f'is pending for {{job="api-canary"}} 1m after the fault {WHY}')
    ]
    assert not failed.ok


def test_depth_3_skips_silent_for_when_the_alert_could_not_be_judged() -> None:
    behaviour = AlertBehaviour(_api_down(), problem="the pack has no alerting rule named ApiDown")
    assert behaviour_silent(behaviour) == [
        SilentVerdict(NAME, "behaviour", "skip", "the pack has no alerting rule named ApiDown")
    ]


def _lost_result(alert: AlertContract, unsilenced: list[Unsilenced]) -> RunResult:
    run = ScenarioRun(alert, alert.scenarios[1], None, None)  # type: ignore[arg-type]
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
        unsilenced=unsilenced,
    )
    return RunResult(run, expectation(run_id=run.id), observed)


def test_live_the_entry_passes_when_nothing_matched_and_fails_naming_the_labels_and_when() -> None:
    alert = _api_down()
    row = live_row(alert, [_lost_result(alert, [])], None, 10.0)
    assert row.verdict == "pass", row.reason
    assert row.to_json()["silent_scenarios"] == [
        {
            "scenario": NAME,
            "depth": "live",
            "verdict": "pass",
            "detail": "stayed silent as documented: neither pending, firing nor notified for them from the fault to "
            "its revert at 36.00s",
        }
    ]
    fired = [Unsilenced(12.3, "firing", '{job="api-mirror", namespace="shop"}')]
    row = live_row(alert, [_lost_result(alert, fired)], None, 10.0)
    assert row.verdict == "fail"
    expected = f'fired for {{job="api-mirror", namespace="shop"}} at 12.30s {WHY}'
    assert f"ApiDown[critical]:node-lost: {expected}" in row.reason.splitlines()
    assert row.silent_scenarios == [SilentVerdict(NAME, "live", "fail", expected)]


def test_the_worker_loss_row_says_the_documented_silent_ones_stayed_silent() -> None:
    alert = _api_down()
    refs = ((alert.key, "node-lost"),)
    passed = [_lost_result(alert, [])]
    row = worker_loss_row(refs, LiveOutcome("twin", 10.0, passed))
    assert row.verdict == "pass"
    assert row.reason == (
        f"ApiDown[critical]:{NAME}: stayed silent as documented: neither pending, firing nor notified for them from "
        "the fault to its revert at 36.00s"
    )
    failed = [_lost_result(alert, [Unsilenced(40.0, "pending", '{job="api-canary"}')])]
    row = worker_loss_row(refs, LiveOutcome("twin", 10.0, failed))
    assert row.verdict == "fail"
    assert f'ApiDown[critical]:node-lost: was pending for {{job="api-canary"}} at 40.00s {WHY}' in row.reason
