"""The contract every live backend meets, and what a live run hands back, the same for twin, kind and cluster."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from conformance.model.profile import Profile
from conformance.model.run import Observation, ScenarioRun, StatusCallback
from conformance.observe.expectations import Expectation, expectation_for
from conformance.observe.sources import CapturedEntry
from conformance.observe.verdict import LiveVerdict, judge
from conformance.observe.watch import RunWatch, Watcher, translate_run
from conformance.packs.model import Pack


@dataclass(frozen=True)
class RunResult:
    """One scenario run as the engine saw it: the run, the expectation it is judged by, what was observed."""

    run: ScenarioRun
    expectation: Expectation
    observation: Observation

    def verdict(self) -> LiveVerdict:
        return judge(self.expectation, self.observation)


@dataclass(frozen=True)
class NoiseFinding:
    """An alert pending or firing while the world was still healthy: noise an operator would be paged by."""

    alert: str
    labels: dict[str, str]
    state: str  # "pending" or "firing"
    profiled: bool  # the profile documents this alert (its run fails too) or not (found only here)
    #: The profile documents this alert to fire all the time (fault ``none``, Watchdog): no noise, as designed.
    expected: bool = False

    def to_json(self) -> dict[str, object]:
        """The ``noise`` entry of ``report.json``."""
        return {
            "alert": self.alert,
            "labels": self.labels,
            "state": self.state,
            "profiled": self.profiled,
            "expected": self.expected,
        }

    def describe(self) -> str:
        labels = ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items()) if k != "alertname")
        if self.expected:
            why = " (documented to fire all the time)"
        else:
            why = "" if self.profiled else " (not in the profile)"
        return f"{self.alert}{{{labels}}} {self.state} on the healthy cluster{why}"


def noise_of(watchers: Sequence[Watcher], profile: Profile) -> list[NoiseFinding]:
    """Every alert the watchers saw pending or firing on the healthy world, once, firing before pending."""
    profiled = {alert.name for alert in profile.alerts}
    always = {alert.name for alert in profile.alerts if any(scenario.always for scenario in alert.scenarios)}
    merged: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}
    for watcher in watchers:
        for key, state in watcher.noise.items():
            if merged.get(key) != "firing":
                merged[key] = state
    return [
        NoiseFinding(name, dict(labels), state, name in profiled, name in always)
        for (name, labels), state in sorted(merged.items())
    ]


#: Log lines (warnings and errors) a failing row shows per process.
COMPLAINT_LINES = 5


@dataclass
class LiveOutcome:
    """Everything a live run produced: one :class:`RunResult` per run in the order given, and the run's extras."""

    backend: str
    time_scale: float
    results: list[RunResult]
    wall_s: float = 0.0
    logs: dict[str, str] = field(default_factory=dict)
    rewrites: list[str] = field(default_factory=list)  # how the twin rewrote the pack (time scale, receivers)
    other_notifications: list[CapturedEntry] = field(default_factory=list)  # claimed by no run
    noise: list[NoiseFinding] = field(default_factory=list)  # alerts pending or firing on the healthy world

    def of_alert(self, key: str) -> list[RunResult]:
        """The alert's own scenario runs (not the repeats made for a high-availability scenario)."""
        return [result for result in self.results if result.run.alert.key == key and not result.run.repeat]

    def complaints(self, within: str = "") -> dict[str, str]:
        """The warnings and errors of the processes' logs (last few per process, of processes whose name
        contains ``within``): what a failing row shows besides its reason, rather than every log line."""
        found: dict[str, str] = {}
        for name, text in self.logs.items():
            lines = [line for line in text.splitlines() if "level=error" in line or "level=warn" in line]
            if within in name and lines:
                found[name] = "\n".join(lines[-COMPLAINT_LINES:])
        return found

    def of_loss(self, loss_id: str) -> list[RunResult]:
        """The runs of one high-availability scenario (:class:`~conformance.model.run.ReplicaLoss`)."""
        return [result for result in self.results if any(loss.id == loss_id for loss in result.run.losses)]


class LiveBackend(Protocol):
    """Runs all scenarios of a profile at once, isolated, and reports one result per scenario run."""

    name: str
    time_scale: float

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> LiveOutcome: ...

    def close(self) -> None:
        """Stop everything started and revert every fault still applied. Safe to call twice."""


def _same(labels: Mapping[str, str]) -> dict[str, str]:
    return dict(labels)


def new_watches(
    runs: Sequence[ScenarioRun],
    profile: Profile,
    pack: Pack,
    scale: float,
    translate: Callable[[Mapping[str, str]], dict[str, str]] = _same,
    *,
    high_availability: bool = True,
) -> list[RunWatch]:
    """A :class:`RunWatch` per run with the one expectation it is judged by; predicted labels in the world's
    names through ``translate`` (a declared node becomes a real one)."""
    return [
        RunWatch(
            translate_run(run, translate),
            expectation_for(run, profile, pack, scale, high_availability=high_availability),
            Observation(run.id, fault_applied=False),
        )
        for run in runs
    ]


def results_of(runs: Sequence[ScenarioRun], watches: Sequence[RunWatch]) -> list[RunResult]:
    """The results in the order of ``runs`` (each watch was made for the run of the same id)."""
    by_id = {watch.observation.run_id: watch for watch in watches}
    return [RunResult(run, by_id[run.id].expectation, by_id[run.id].observation) for run in runs]
