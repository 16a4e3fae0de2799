"""Live ``silent_for``: while a scenario's fault holds, an instance of its alert carrying the labels the document
says it stays silent for (pending, firing or notified) fails the run, naming the labels and when; the instances
it must fire for, what happens before the fault or after the revert, and another run's own instance do not."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup, Source
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import Observation, ScenarioRun, Unsilenced
from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import Environment, NodeSpec
from conformance.observe.expectations import Expectation, ReceiverExpectation
from conformance.observe.verdict import judge
from conformance.observe.watch import RunWatch, Watcher, translate_run
from conformance.packs.model import Pack

SOURCE = Source("x", "y", "z")
ALERT = "RunaiDeploymentNoAvailableReplicas"
RUN_ID = f"{ALERT}[critical]:system-worker-lost"
SCALED = ({"deployment": "researcher-service"}, {"deployment": "runai-scheduler"})
RECEIVER = ReceiverExpectation("main/team", True, group_wait_s=30.0, group_interval_s=300.0)


def _labels(deployment: str) -> dict[str, str]:
    return {"alertname": ALERT, "severity": "critical", "namespace": "runai", "deployment": deployment}


def _run(scenario_id: str, target: Target, predicted: tuple[str, ...], silent_for: Any = ()) -> ScenarioRun:
    scenario = Scenario(scenario_id, "node-not-ready", target, silent_for=silent_for)
    alert = AlertContract(ALERT, "critical", "", SOURCE, None, DocumentedDuration(120, False), None, {}, (scenario,))
    labels = tuple(_labels(name) for name in predicted)
    return ScenarioRun(
        alert, scenario, None, Prediction(alert.key, ALERT, scenario_id, None, 600, 180, 600, 700, labels)
    )


def _worker_lost() -> ScenarioRun:
    return _run("system-worker-lost", Target(node="system-worker-1"), ("runai-agent",), SCALED)


def _expectation(run_id: str = RUN_ID) -> Expectation:
    return Expectation(run_id, 1.0, 180.0, 15.0, 15.0, (RECEIVER,), 600.0, 30.0)


@dataclass
class Recorded:
    """Sources that answer what was recorded for the poll at each clock time."""

    now: list[float]
    alerts: dict[float, list[tuple[dict[str, str], str]]] = field(default_factory=dict)
    posts: dict[float, list[dict[str, Any]]] = field(default_factory=dict)

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        return self.alerts.get(self.now[0], [])

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        return []

    def captured(self, since: int) -> tuple[list[dict[str, Any]], int] | None:
        entries = [entry for at in sorted(self.posts) if at <= self.now[0] for entry in self.posts[at]]
        return entries[since:], len(entries)


def _post(at: float, deployment: str) -> dict[str, Any]:
    alert = {"labels": _labels(deployment), "status": "firing"}
    return {"at": at, "path": "/r/main/team", "payload": {"status": "firing", "groupKey": "g", "alerts": [alert]}}


def _watch(sources: Recorded, runs: list[ScenarioRun], reverted_at: float = 500.0) -> list[RunWatch]:
    environment = Environment(nodes=(NodeSpec("system-worker-1"),), namespaces=("runai",))
    profile = Profile(
        "runai", "", Path("p.yaml"), (), Path("pack"), environment, (RoutingSetup("main", "file", "team", SOURCE),), ()
    )
    watches = [RunWatch(run, _expectation(run.id), Observation(run.id, True)) for run in runs]
    watcher = Watcher(sources, profile, Pack(Path("pack"), (), (), ()), lambda: sources.now[0])
    for at in sorted({0.0, 100.0, reverted_at, *sources.alerts, *sources.posts}):
        sources.now[0] = at
        for watch in watches:
            if at == 100.0 and watch.injected_at is None:
                watch.injected(100.0)
            if at == reverted_at and watch.reverted_at is None:
                watch.reverted(reverted_at)
        watcher.poll(watches)
    return watches


def test_an_instance_for_a_silent_label_set_while_the_fault_holds_fails_the_run_naming_it() -> None:
    sources = Recorded([0.0])
    sources.alerts = {
        100.0: [],
        130.0: [(_labels("runai-agent"), "pending"), (_labels("researcher-service"), "pending")],
        250.0: [(_labels("runai-agent"), "firing"), (_labels("researcher-service"), "firing")],
        262.3: [(_labels("researcher-service"), "firing"), (_labels("researcher-service"), "firing")],
    }
    sources.posts = {280.0: [_post(280.0, "runai-agent"), _post(280.0, "researcher-service")]}
    [watch] = _watch(sources, [_worker_lost()])
    assert watch.observation.unsilenced == [
        Unsilenced(30.0, "pending", '{deployment="researcher-service"}'),
        Unsilenced(150.0, "firing", '{deployment="researcher-service"}'),
        Unsilenced(180.0, "notified main/team", '{deployment="researcher-service"}'),
    ]
    assert (150.0, 'documented silent for {deployment="researcher-service"}: firing') in watch.observation.timeline
    verdict = judge(watch.expectation, watch.observation)
    assert verdict.outcome == "fail"
    lines = verdict.message().splitlines()
    assert (
        f'{RUN_ID}: fired for {{deployment="researcher-service"}} at 150.00s although the document says it stays '
        "silent for it"
    ) in lines
    assert (
        f'{RUN_ID}: notified main/team for {{deployment="researcher-service"}} at 180.00s although the document '
        "says it stays silent for it"
    ) in lines


def test_a_pending_instance_alone_fails_too() -> None:
    observation = Observation(RUN_ID, True, unsilenced=[Unsilenced(12.3, "pending", '{deployment="runai-scheduler"}')])
    problems = judge(_expectation(), observation).problems
    assert (
        'was pending for {deployment="runai-scheduler"} at 12.30s although the document says it stays silent for it'
        in problems
    )


def test_the_instances_it_must_fire_for_and_what_shows_outside_the_fault_pass() -> None:
    sources = Recorded([0.0])
    sources.alerts = {
        50.0: [(_labels("researcher-service"), "pending")],  # before the fault: the healthy period's business
        250.0: [(_labels("runai-agent"), "firing")],
        520.0: [(_labels("researcher-service"), "firing")],  # after the revert: the fault no longer holds
    }
    [watch] = _watch(sources, [_worker_lost()], reverted_at=500.0)
    assert watch.observation.unsilenced == []


def test_an_instance_another_run_of_the_world_claims_is_that_runs_own() -> None:
    """runai-scheduler's own unavailable-replicas scenario in the same wave fires for runai-scheduler: not the
    lost worker's doing."""
    own = _run("none-available", Target(namespace="runai", workload="runai-scheduler"), ("runai-scheduler",))
    sources = Recorded([0.0])
    sources.alerts = {250.0: [(_labels("runai-scheduler"), "firing"), (_labels("researcher-service"), "firing")]}
    lost, _ = _watch(sources, [_worker_lost(), own])
    assert [seen.matcher for seen in lost.observation.unsilenced] == ['{deployment="researcher-service"}']


def test_the_matchers_are_translated_into_the_worlds_names_with_the_predicted_labels() -> None:
    translated = translate_run(_worker_lost(), lambda labels: {k: v.upper() for k, v in labels.items()})
    assert translated.scenario.silent_for == ({"deployment": "RESEARCHER-SERVICE"}, {"deployment": "RUNAI-SCHEDULER"})


def test_a_run_without_silent_for_records_nothing() -> None:
    sources = Recorded([0.0])
    sources.alerts = {250.0: [(_labels("researcher-service"), "firing")]}
    plain = _run("system-worker-lost", Target(node="system-worker-1"), ("runai-agent",))
    [watch] = _watch(sources, [plain])
    assert watch.observation.unsilenced == []
