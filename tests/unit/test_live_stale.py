"""An Alertmanager still showing an alert active after Prometheus resolved it was not told: the run fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup, Source
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import Observation, ScenarioRun
from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import Environment, NodeSpec
from conformance.observe.expectations import Expectation, ReceiverExpectation
from conformance.observe.verdict import judge
from conformance.observe.watch import STALE, RunWatch, Watcher
from conformance.packs.model import Pack

LABELS = {"alertname": "A", "severity": "warning", "pod": "api-1"}
SOURCE = Source("x", "y", "z")


def world() -> tuple[Profile, Pack]:
    environment = Environment(nodes=(NodeSpec("n"),), namespaces=("ns",))
    routing = (RoutingSetup("main", "file", "hook", SOURCE),)
    profile = Profile("unit", "", Path("p.yaml"), (), Path("pack"), environment, routing, ())
    return profile, Pack(Path("pack"), (), (), ())


def _run() -> ScenarioRun:
    scenario = Scenario("s", "crash-loop", Target(namespace="ns", workload="w", container="c"))
    alert = AlertContract("A", "warning", "", SOURCE, None, DocumentedDuration(0, True), None, {}, (scenario,))
    return ScenarioRun(alert, scenario, 3, Prediction(alert.key, "A", "s", 3, 60, 30, 60, 90, (LABELS,)))


def expectation() -> Expectation:
    receiver = ReceiverExpectation("main/team", False, 30.0, 300.0)
    return Expectation("A[warning]:s", 10.0, 30.0, 1.5, 1.5, (receiver,), 60.0, 2.0)


@dataclass
class AlertmanagerOnly:
    """Sources whose Prometheus shows nothing (the alert resolved) and whose Alertmanagers show ``active``."""

    active: list[str] = field(default_factory=list)  # the set-ups whose Alertmanager still holds the alert

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        return []

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        alert = {"labels": LABELS, "status": {"state": "active"}, "receivers": [{"name": "hook"}]}
        return [(setup, [alert]) for setup in self.active]

    def captured(self, since: int) -> tuple[list[dict[str, Any]], int] | None:
        return [], 0


def _watched(sources: AlertmanagerOnly, now: list[float]) -> RunWatch:
    profile, pack = world()
    watch = RunWatch(_run(), expectation(), Observation("A[warning]:s", True, firing_s=29.0))
    watch.injected(0.0)
    watch.reverted(36.0)
    watcher = Watcher(sources, profile, pack, lambda: now[0])
    for at in (37.0, 38.0, 41.0, 45.0):  # Prometheus resolved it at 37; grace: scrape + 2 evaluations + 0.5
        now[0] = at
        watcher.poll([watch])
    return watch


def test_an_alertmanager_that_keeps_a_resolved_alert_active_is_stale() -> None:
    watch = _watched(AlertmanagerOnly(["main"]), [0.0])
    assert (45.0, f"{STALE} main") in watch.observation.timeline
    verdict = judge(watch.expectation, watch.observation)
    assert verdict.outcome == "fail"
    assert "main still showed the alert active at 45.00s, after Prometheus resolved it at 37.00s" in (verdict.message())


def test_an_alertmanager_that_lets_it_go_in_time_is_not_stale() -> None:
    sources = AlertmanagerOnly(["main"])
    watch = RunWatch(_run(), expectation(), Observation("A[warning]:s", True, firing_s=29.0))
    profile, pack = world()
    now = [0.0]
    watcher = Watcher(sources, profile, pack, lambda: now[0])
    watch.injected(0.0)
    watch.reverted(36.0)
    for at, active in ((37.0, ["main"]), (39.0, ["main"]), (45.0, [])):
        now[0] = at
        sources.active = active
        watcher.poll([watch])
    assert not [event for _, event in watch.observation.timeline if event.startswith(STALE)]
