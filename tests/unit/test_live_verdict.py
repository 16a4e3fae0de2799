"""Verdicts: the notification window, the resolved notification, the healthy period, and the message."""

from __future__ import annotations

from conformance.model.run import Notification, Observation
from conformance.observe.expectations import TOLERANCE_S, Expectation, ReceiverExpectation, route_timers
from conformance.observe.verdict import judge

RECEIVER = ReceiverExpectation("main/team", True, group_wait_s=30.0, group_interval_s=300.0)


def expectation(**override: object) -> Expectation:
    values: dict[str, object] = {
        "run_id": "A[warning]:s",
        "scale": 10.0,
        "fire_s": 30.0,
        "scrape_s": 1.5,
        "evaluation_s": 1.5,
        "receivers": (RECEIVER,),
        "revert_s": 60.0,
        "resolve_delta_s": 2.0,
    }
    values.update(override)
    return Expectation(**values)  # type: ignore[arg-type]


def observed(
    notify: float | None, resolved: float | None = 45.0, timeline: list[tuple[float, str]] | None = None
) -> Observation:
    notes = []
    if notify is not None:
        notes.append(Notification(notify, "main/team", "firing", {}))
    if resolved is not None:
        notes.append(Notification(resolved, "main/team", "resolved", {}))
    return Observation(
        "A[warning]:s",
        True,
        firing_s=29.0,
        notified_s=notify,
        reverted_s=36.0,
        notifications=notes,
        timeline=timeline or [(29.0, "firing"), (36.0, "reverted")],
    )


def test_inside_the_window_passes() -> None:
    # budget = scrape 1.5 + evaluation 1.5 + group_wait 30/10 = 6s
    assert judge(expectation(), observed(35.9)).outcome == "pass"


def test_early_notification_fails() -> None:
    # The prediction is on promtool's evaluation grid: one evaluation (1.5s) sooner is still on time.
    assert judge(expectation(), observed(30.0 - 1.5 - TOLERANCE_S + 0.05)).outcome == "pass"
    verdict = judge(expectation(), observed(30.0 - 1.5 - TOLERANCE_S - 0.1))
    assert verdict.outcome == "fail"
    assert "before the predicted time-to-fire 30.00s (less one evaluation interval 1.50s)" in verdict.message()


def test_late_notification_fails_and_shows_the_timeline() -> None:
    verdict = judge(expectation(), observed(36.6))
    message = verdict.message()
    assert "later than predicted 30.00s + budget 6.50s (scrape + evaluation + group_wait) = 36.50s" in message
    assert "+29.00s  firing" in message


def test_group_interval_counts_when_the_group_had_notified() -> None:
    timeline = [(29.0, "firing"), (36.0, "reverted"), (50.0, "group already notified main/team")]
    assert judge(expectation(), observed(50.0, resolved=60.0, timeline=timeline)).outcome == "pass"


def test_missing_resolved_notification_fails() -> None:
    verdict = judge(expectation(), observed(33.0, resolved=None))
    assert "no resolved notification reached main/team after the revert at 36.00s" in verdict.message()


def test_resolved_not_needed_without_send_resolved() -> None:
    quiet = ReceiverExpectation("main/team", False, 30.0, 300.0)
    assert judge(expectation(receivers=(quiet,)), observed(33.0, resolved=None)).outcome == "pass"


def test_wrong_receiver_is_named() -> None:
    obs = observed(None, resolved=None)
    obs.notifications.append(Notification(33.0, "main/null", "firing", {}))
    verdict = judge(expectation(), obs)
    assert "no notification reached main/team; it reached main/null instead" in verdict.message()


def test_healthy_period_activity_fails() -> None:
    timeline = [(-3.0, "pending (healthy cluster)"), (29.0, "firing"), (36.0, "reverted")]
    verdict = judge(expectation(), observed(33.0, timeline=timeline))
    assert verdict.outcome == "fail"
    assert "the healthy cluster, before any fault, already showed: pending (healthy cluster) at -3.00s" in (
        verdict.message()
    )


def test_skipped_observation_skips() -> None:
    obs = Observation("A[warning]:s", False, skipped="1 GB/s is not honest in kind")
    assert judge(expectation(), obs).outcome == "skip"


def test_route_timers_inherit() -> None:
    config = {"route": {"group_wait": "10s", "routes": [{"group_interval": "1m", "routes": [{"group_wait": "5s"}]}]}}
    assert route_timers(config, ()) == (10.0, 300.0)
    assert route_timers(config, (0,)) == (10.0, 60.0)
    assert route_timers(config, (0, 0)) == (5.0, 60.0)


def test_alerts_built_on_alerts_get_one_more_evaluation() -> None:
    from pathlib import Path

    from conformance.observe.expectations import is_aggregate
    from conformance.packs.model import Pack, Rule, RuleGroup

    rules = (
        Rule('count(ALERTS{severity="critical"}) > 0', "g", "f", 1, alert="Any"),
        Rule("up == 0", "g", "f", 2, alert="Down"),
    )
    pack = Pack(Path("."), (RuleGroup("g", rules, "f"),), (), ())
    assert is_aggregate(pack, "Any") and not is_aggregate(pack, "Down")
    chained = expectation(chain_s=1.5)
    plain = expectation().latest_notify_s(RECEIVER, False)
    assert plain is not None and chained.latest_notify_s(RECEIVER, False) == plain + 1.5
    assert judge(chained, observed(37.5)).outcome == "pass"
    assert judge(expectation(), observed(37.5)).outcome == "fail"


def test_an_alert_that_resolves_on_its_own_may_resolve_after_an_early_revert() -> None:
    """Restarts leave a 15m window on their own schedule: reverting early does not make them leave sooner."""
    # Reverted at 36s: from the revert the bound is 36 + 2 + 1.5 + 1.5 + 30 + 0.5 = 71.5s; from the predicted
    # self-resolution at 45s it is 45 + 1.5 + 1.5 + 30 + 0.5 = 78.5s.
    late_resolution = observed(33.0, resolved=78.0)
    assert judge(expectation(), late_resolution).outcome == "fail"
    assert judge(expectation(self_resolve_s=45.0), late_resolution).outcome == "pass"
    assert judge(expectation(self_resolve_s=45.0), observed(33.0, resolved=79.0)).outcome == "fail"


def test_an_alert_that_stops_while_a_lasting_fault_holds_fails() -> None:
    """Issue 9's hole 3, live: depth 3 proved the fault a state (``sustain_s``), so the alert must keep firing
    until the revert; one that resolves and fires again meanwhile fails, naming when."""
    flapping = [(29.0, "firing"), (31.0, "stopped firing while the fault holds"), (36.0, "reverted")]
    verdict = judge(expectation(sustain_s=3.0), observed(35.9, timeline=flapping))
    assert verdict.outcome == "fail"
    assert "fired at 29.00s, then resolved at +31.00s while the fault still holds (reverted at 36.00s)" in (
        verdict.message()
    )
    # a burst of events (no sustain) may stop on its own once the events leave the window
    assert judge(expectation(), observed(35.9, timeline=flapping)).outcome == "pass"
    # and a lasting fault whose alert stays firing until the revert passes
    assert judge(expectation(sustain_s=3.0), observed(35.9)).outcome == "pass"


def test_the_documented_timers_and_send_resolved_decide_not_the_packs() -> None:
    """Where the document states group_wait or send_resolved, the live budget uses the document's value."""
    from conformance.observe.expectations import receiver_expectation
    from conformance.packs.model import AlertmanagerSetup

    config = {
        "route": {"receiver": "hook", "group_wait": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": "http://x", "send_resolved": False}]}],
    }
    setup = AlertmanagerSetup("file", "main", config, "alertmanager.yml")
    as_packed = receiver_expectation("main", "hook", setup, {"alertname": "A"})
    assert (as_packed.group_wait_s, as_packed.send_resolved) == (3600.0, False)
    documented = receiver_expectation(
        "main", "hook", setup, {"alertname": "A"}, {"group_wait": 30.0, "send_resolved": True}
    )
    assert (documented.group_wait_s, documented.group_interval_s, documented.send_resolved) == (30.0, 300.0, True)


QUIET = ReceiverExpectation("main/null", False, group_wait_s=30.0, group_interval_s=300.0)


def test_a_silent_scenario_passes_when_nothing_fires_and_fails_on_a_firing_or_a_notification() -> None:
    """``expect: silent``: the document says the failure must not raise the alert."""
    silent = expectation(fire_s=None, silent=True)
    quiet = Observation("A[warning]:s", True, reverted_s=36.0, timeline=[(36.0, "reverted")])
    assert judge(silent, quiet).outcome == "pass"
    verdict = judge(silent, observed(31.0))
    assert verdict.outcome == "fail"
    assert verdict.problems == [
        "fired at 29.00s although the document says this failure must not raise it",
        "notified main/team at 31.00s although the document says this failure must not raise it",
    ]


def test_an_alert_that_notifies_nobody_may_only_reach_receivers_without_integration() -> None:
    """A heartbeat routed to kube-prometheus-stack's null receiver: routed, counted as no notification."""
    nobody = expectation(receivers=(QUIET,), notifies=False, quiet_receivers=frozenset({"main/null"}))
    routed = Observation(
        "A[warning]:s",
        True,
        firing_s=29.0,
        notified_s=31.0,
        reverted_s=36.0,
        notifications=[Notification(31.0, "main/null", "firing", {})],
        timeline=[(29.0, "firing"), (31.0, "notified main/null"), (36.0, "reverted")],
    )
    verdict = judge(nobody, routed)
    assert verdict.outcome == "pass", verdict.message()
    assert verdict.notifications == {}
    assert (31.0, "routed to main/null (no integration: nobody notified)") in verdict.timeline
    routed.notifications.append(Notification(31.2, "main/team", "firing", {}))
    verdict = judge(nobody, routed)
    assert verdict.outcome == "fail"
    assert "notified main/team although the document says this alert notifies nobody" in verdict.problems
    assert verdict.notifications == {"main/team": {"firing": 1}}


def test_an_alert_that_must_notify_and_reaches_a_receiver_without_integration_is_routed_not_notified() -> None:
    pages = expectation(receivers=(QUIET,), quiet_receivers=frozenset({"main/null"}))
    routed = Observation(
        "A[warning]:s",
        True,
        firing_s=29.0,
        notified_s=31.0,
        reverted_s=36.0,
        notifications=[Notification(31.0, "main/null", "firing", {})],
    )
    verdict = judge(pages, routed)
    assert verdict.outcome == "pass", verdict.message()
    assert verdict.notifications == {}  # a post the capture saw, but nobody would have been notified


def test_a_failing_row_shows_only_the_warnings_and_errors_of_the_process_logs() -> None:
    from conformance.observe.backend import LiveOutcome

    quiet = "\n".join(f'ts=1 level=info msg="Completed loading of configuration file {i}"' for i in range(50))
    noisy = quiet + '\nts=2 level=error msg="Error sending alert" err="connection refused"'
    outcome = LiveOutcome("twin", 20.0, [], logs={"twin prometheus-0": quiet, "twin alertmanager-0": noisy})
    assert outcome.complaints() == {
        "twin alertmanager-0": 'ts=2 level=error msg="Error sending alert" err="connection refused"'
    }
    assert outcome.complaints(within="prometheus") == {}


def test_a_run_that_never_lost_its_replicas_fails_and_a_lost_one_before_its_fault_is_no_noise() -> None:
    losses = ("a Prometheus replica lost while the alert is pending",)
    verdict = judge(expectation(losses=losses), observed(33.0))
    assert verdict.outcome == "fail"
    assert "a Prometheus replica lost while the alert is pending: 0 of 1 replicas lost" in verdict.message()
    timeline = [
        (-1.0, "lost prometheus-0 (prometheus-replica-lost-while-pending)"),
        (29.0, "firing"),
        (36.0, "reverted"),
    ]
    assert judge(expectation(losses=losses), observed(33.0, timeline=timeline)).outcome == "pass"
