"""The shared live engine with played sources and a recording fault driver: no binary, no cluster.

What every backend relies on: a healthy period judged before the faults, each run reverted once notified (or when
overdue), a revert for every applied fault on any way out, resolved notifications awaited, and noise (any alert
pending or firing on the healthy world) reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pytest

from conformance.errors import ConformanceError, RevertError
from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup, Source
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import ReplicaLoss, ScenarioRun
from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import Environment, NodeSpec
from conformance.observe.backend import new_watches, noise_of
from conformance.observe.engine import Engine, HealthyPeriod, Lane
from conformance.observe.watch import RunWatch, Watcher
from conformance.packs.model import AlertmanagerSetup, Pack

CONFIG = {
    "route": {"receiver": "hook", "group_wait": "0s", "group_interval": "1s"},
    "receivers": [{"name": "hook", "webhook_configs": [{"url": "http://x", "send_resolved": True}]}],
}


def alert(name: str) -> AlertContract:
    scenario = Scenario("s", "crash-loop", Target(namespace="ns", workload=name.lower(), container="c"))
    return AlertContract(
        name,
        "warning",
        "",
        Source("x", "y", "z"),
        None,
        DocumentedDuration(0, True),
        None,
        {"main": "hook"},
        (scenario,),
    )


def world(names: list[str]) -> tuple[Profile, Pack, list[ScenarioRun]]:
    alerts = tuple(alert(name) for name in names)
    profile = Profile(
        name="unit",
        title="",
        path=Path("profile.yaml"),
        seeds=(),
        pack_path=Path("pack"),
        environment=Environment(nodes=(NodeSpec("n"),), namespaces=("ns",)),
        routing=(RoutingSetup("main", "file", "hook", Source("x", "y", "z")),),
        alerts=alerts,
        scrape_interval_s=0.1,
        evaluation_interval_s=0.1,
    )
    pack = Pack(Path("pack"), (), (AlertmanagerSetup("file", "main", CONFIG, "alertmanager.yml"),), ())
    runs = []
    for contract in alerts:
        labels = ({"alertname": contract.name, "severity": "warning", "pod": contract.name.lower()},)
        prediction = Prediction(contract.key, contract.name, "s", 1, 0.3, 0.1, 0.3, 0.4, labels, 0.1, 0.1)
        runs.append(ScenarioRun(contract, contract.scenarios[0], 1, prediction))
    return profile, pack, runs


@dataclass
class PlayedStack:
    """Sources whose alerts follow the faults: a faulted run's alert fires and notifies at once; after its revert
    it resolves and a resolved notification follows. ``always`` alerts fire whatever happens (noise)."""

    faulted: set[str] = field(default_factory=set)
    always: list[dict[str, str]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    sent: set[tuple[str, str]] = field(default_factory=set)
    clock: float = 0.0

    def _labels(self, name: str) -> dict[str, str]:
        return {"alertname": name, "severity": "warning", "pod": name.lower()}

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        return [(self._labels(n), "firing") for n in sorted(self.faulted)] + [(a, "firing") for a in self.always]

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        return []

    def captured(self, since: int) -> tuple[list[dict[str, Any]], int] | None:
        for name in sorted(self.faulted):
            self._post(name, "firing")
        for name in {n for n, status in self.sent if status == "firing"} - self.faulted:
            self._post(name, "resolved")
        return self.entries[since:], len(self.entries)

    def _post(self, name: str, status: str) -> None:
        if (name, status) in self.sent:
            return
        self.sent.add((name, status))
        item = {"status": status, "labels": self._labels(name), "annotations": {}, "startsAt": "x", "endsAt": ""}
        payload = {
            "version": "4",
            "groupKey": name,
            "status": status,
            "receiver": "hook",
            "groupLabels": {},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "",
            "alerts": [item],
        }
        self.entries.append({"at": self.clock, "path": "/r/main/hook", "payload": payload})


@dataclass
class RecordingFaults:
    stack: PlayedStack
    calls: list[str] = field(default_factory=list)
    fail_apply: set[str] = field(default_factory=set)
    fail_revert: set[str] = field(default_factory=set)

    def apply(self, watch: RunWatch) -> None:
        name = watch.run.alert.name
        self.calls.append(f"apply {name}")
        if name in self.fail_apply:
            raise ConformanceError("refused")
        self.stack.faulted.add(name)

    def revert(self, watch: RunWatch) -> None:
        name = watch.run.alert.name
        self.calls.append(f"revert {name}")
        self.stack.faulted.discard(name)
        if name in self.fail_revert:
            raise RuntimeError("revert broke")

    def check_alive(self) -> None:
        return None


class Clock:
    """Virtual time: each sleep advances it, so the engine's deadlines are exact and the test takes no time."""

    def __init__(self, stack: PlayedStack) -> None:
        self.now, self.stack = 100.0, stack

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.stack.clock = self.now


def engine_for(names: list[str], **faults: Any) -> tuple[Engine, list[Lane], RecordingFaults, PlayedStack, Profile]:
    profile, pack, runs = world(names)
    stack = PlayedStack()
    clock = Clock(stack)
    stack.clock = clock.now
    watches = new_watches(runs, profile, pack, 1.0)
    lane = Lane("unit", Watcher(stack, profile, pack, clock), watches)
    engine = Engine("unit", clock, clock.sleep, 0.05, lambda _line: None)
    return engine, [lane], RecordingFaults(stack, **faults), stack, profile


def test_each_run_is_notified_reverted_and_resolved() -> None:
    engine, lanes, faults, _, _ = engine_for(["A", "B"])
    judged = engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.5))
    assert judged == 0.5
    for watch in lanes[0].watches:
        observation = watch.observation
        assert observation.fault_applied and observation.notified_s is not None
        assert observation.reverted_s is not None and observation.resolved_notified_s is not None
        assert observation.resolved_notified_s >= observation.reverted_s
        assert watch.done
    assert sorted(faults.calls) == ["apply A", "apply B", "revert A", "revert B"]


def test_a_fault_that_cannot_be_applied_is_still_reverted_and_the_others_go_on() -> None:
    engine, lanes, faults, _, _ = engine_for(["A", "B"], fail_apply={"A"})
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2))
    failed, other = (watch.observation for watch in lanes[0].watches)
    assert failed.error == "cannot apply crash-loop: refused" and not failed.fault_applied
    assert "revert A" in faults.calls  # a half-applied fault is reverted too
    assert other.notified_s is not None and other.resolved_notified_s is not None


def test_a_failed_revert_does_not_stop_the_others_and_is_raised_once_all_ran() -> None:
    engine, lanes, faults, stack, _ = engine_for(["A", "B"], fail_revert={"A"})
    with pytest.raises(RevertError, match="revert broke"):
        engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2))
    assert "revert B" in faults.calls and stack.faulted == set()


def test_ctrl_c_while_holding_reverts_every_applied_fault() -> None:
    engine, lanes, faults, stack, _ = engine_for(["A", "B"])

    def status(line: str) -> None:
        if "pending" in line and "notified" in line:
            raise KeyboardInterrupt

    engine.status = status
    with pytest.raises(KeyboardInterrupt):
        engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2))
    assert stack.faulted == set() and sorted(c for c in faults.calls if c.startswith("revert")) == [
        "revert A",
        "revert B",
    ]


def test_the_healthy_period_fails_a_documented_alert_and_reports_every_alert_as_noise() -> None:
    engine, lanes, faults, stack, profile = engine_for(["A"])
    stack.always = [
        {"alertname": "A", "severity": "warning", "pod": "elsewhere"},  # documented, on another object
        {"alertname": "KubeAPIDown", "severity": "critical"},  # not in the profile at all
    ]
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.3))
    (watch,) = lanes[0].watches
    healthy = [(at, text) for at, text in watch.observation.timeline if at < 0]
    assert healthy and all(text.endswith("(healthy cluster)") for _, text in healthy)
    noise = noise_of([lanes[0].watcher], profile)
    assert [(item.alert, item.state, item.profiled) for item in noise] == [
        ("A", "firing", True),
        ("KubeAPIDown", "firing", False),
    ]
    assert noise[1].describe() == 'KubeAPIDown{severity="critical"} firing on the healthy cluster (not in the profile)'


def test_an_always_firing_alert_keeps_its_notification_sent_while_the_windows_fill() -> None:
    # Watchdog is notified as soon as the stack starts and next only after repeat_interval (12h): the post that
    # came before the judged period is its notification, not an earlier run's to skip.
    engine, lanes, faults, stack, _ = engine_for(["A"])
    (watch,) = lanes[0].watches
    object.__setattr__(watch, "expectation", replace(watch.expectation, always=True))
    stack._post("A", "firing")  # at the stack's start
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2, fill_s=0.5))
    healthy = [text for at, text in watch.observation.timeline if at < 0]
    assert "notified main/hook (healthy cluster)" in healthy, healthy
    assert lanes[0].watcher.other_notifications == []


def test_a_world_that_never_gets_ready_stops_with_one_line() -> None:
    engine, lanes, faults, _, _ = engine_for(["A"])
    period = HealthyPeriod(judged_s=0.2, not_ready=lambda: ["job/target-1"], ready_timeout_s=1.0)
    with pytest.raises(ConformanceError, match="did not scrape job/target-1 in time"):
        engine.run_wave("wave 1", lanes, faults, period)
    assert faults.calls == []  # nothing was applied


def test_a_lasting_fault_is_held_through_its_sustain_even_once_notified() -> None:
    engine, lanes, faults, _, _ = engine_for(["A"])
    (watch,) = lanes[0].watches
    object.__setattr__(watch, "expectation", replace(watch.expectation, sustain_s=1.0))
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.1))
    observation = watch.observation
    assert observation.notified_s is not None and observation.notified_s < 0.2
    assert observation.reverted_s is not None and observation.reverted_s >= 0.1 + 1.0  # predicted fire + sustain


@dataclass
class LosingFaults(RecordingFaults):
    """A driver that can also lose a replica (high availability)."""

    def lose(self, loss: ReplicaLoss, watch: RunWatch) -> str:
        self.calls.append(f"lose {loss.component} with {watch.run.alert.name} {self.stack.clock:.2f}")
        return f"{loss.component}-0"


def _with_loss(lanes: list[Lane], *whens: Literal["pending", "notified"]) -> None:
    for watch in lanes[0].watches:
        losses = tuple(
            ReplicaLoss("prometheus", "pending") if when == "pending" else ReplicaLoss("alertmanager", when, "main")
            for when in whens
        )
        watch.run = replace(watch.run, losses=losses)


def test_a_high_availability_run_loses_its_replica_once_at_its_moment() -> None:
    engine, lanes, _, stack, _ = engine_for(["A"])
    losing = LosingFaults(stack)
    _with_loss(lanes, "notified")
    engine.run_wave("wave 1", lanes, losing, HealthyPeriod(judged_s=0.2))
    (watch,) = lanes[0].watches
    assert [call.split()[:4] for call in losing.calls if call.startswith("lose")] == [
        ["lose", "alertmanager", "with", "A"]
    ]
    events = [event for _, event in watch.observation.timeline]
    lost = "lost alertmanager-0 (alertmanager-main-peer-lost-after-notifying)"
    assert events.index(lost) > events.index("notified main/hook")
    assert events.index(lost) < events.index("reverted")
    assert watch.observation.error is None


def test_runs_that_lose_a_replica_are_staggered_to_fire_together_and_lose_it_once() -> None:
    engine, lanes, _, stack, _ = engine_for(["A", "B"])
    losing = LosingFaults(stack)
    _with_loss(lanes, "notified")
    first, second = lanes[0].watches
    # Lasting faults (they wait for the loss once notified); B is predicted to fire 0.3 s later than A.
    object.__setattr__(first, "expectation", replace(first.expectation, sustain_s=0.1))
    object.__setattr__(second, "expectation", replace(second.expectation, fire_s=0.4, sustain_s=0.1))
    engine.run_wave("wave 1", lanes, losing, HealthyPeriod(judged_s=0.2))
    assert (first.delay_s, second.delay_s) == (0.3, 0.0)
    assert first.injected_at is not None and second.injected_at is not None
    assert first.injected_at - second.injected_at == pytest.approx(0.3, abs=0.06)
    (call,) = [call for call in losing.calls if call.startswith("lose")]
    lost_at = float(call.split()[-1])
    assert lost_at >= first.injected_at  # the loss waited for A, whose fault went in last, to notify
    for watch in (first, second):
        events = [event for _, event in watch.observation.timeline]
        lost = "lost alertmanager-0 (alertmanager-main-peer-lost-after-notifying)"
        assert events.index("notified main/hook") < events.index(lost) < events.index("reverted")
        assert watch.observation.error is None


def test_a_lane_without_losses_is_not_staggered() -> None:
    engine, lanes, faults, _, _ = engine_for(["A", "B"])
    object.__setattr__(lanes[0].watches[1], "expectation", replace(lanes[0].watches[1].expectation, fire_s=0.6))
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2))
    assert [watch.delay_s for watch in lanes[0].watches] == [0.0, 0.0]
    assert len({watch.injected_at for watch in lanes[0].watches}) == 1


def test_a_backend_that_cannot_lose_a_replica_fails_the_run_with_the_reason() -> None:
    engine, lanes, faults, _, _ = engine_for(["A"])
    _with_loss(lanes, "pending")
    engine.run_wave("wave 1", lanes, faults, HealthyPeriod(judged_s=0.2))
    (watch,) = lanes[0].watches
    assert watch.observation.error == (
        "a Prometheus replica lost while the alert is pending: this backend cannot lose a replica"
    )
