"""A toy cluster for testing the twin's machinery without the full simulated cluster.

:class:`ToyCluster` meets :class:`~conformance.twin.exporter.ClusterLike` with one scrape target per declared
workload (job = the workload's name). Each target exposes ``toy_fault_level{namespace,workload}`` (0 when
healthy, the fault's level or 1 under a fault) and ``toy_requests_total``, a counter growing at
``rate_per_second`` of virtual time. A ``target-down`` fault makes the target answer as down. Like the simulated
cluster it says what Prometheus stores (``stored_samples``), so the twin backfills its warm-up. It is a test
double for the pipeline (processes, scaling, routing, capture, verdicts), not a model of Kubernetes.

:func:`toy_profile` and :func:`toy_runs` describe three alerts over it for a toy pack (the integration tests keep
one in ``tests/integration/data/live/pack``), with the predictions depth 3 would make for them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from conformance.model.contract import AlertContract, DocumentedDuration, RoutingSetup, Source
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import ScenarioRun
from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import Environment, NodeSpec
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.sim.cluster import merge_target_labels
from conformance.sim.exposition import format_value
from conformance.sim.types import SeriesKey, series_key


@dataclass(frozen=True)
class ToyTarget:
    id: str
    job: str
    metrics_path: str
    honor_labels: bool
    labels: dict[str, str] = field(default_factory=dict)
    node: str | None = None
    metric_drop: str = ""


@dataclass
class _Fault:
    target: str
    down: bool
    level: float


class ToyCluster:
    """Targets named ``<namespace>/<workload>``; see the module docstring."""

    def __init__(self, workloads: list[tuple[str, str]], rate_per_second: float = 10.0) -> None:
        self.now = 0.0
        self.rate_per_second = rate_per_second
        self._targets = {
            f"{ns}/{name}": ToyTarget(
                f"{ns}/{name}", name, "/metrics", False, {"instance": f"{name}.{ns}:8080", "namespace": ns}
            )
            for ns, name in workloads
        }
        self._faults: dict[int, _Fault] = {}
        self._next = 0
        self.applied: list[tuple[float, str]] = []
        self.changed_at = 0.0  # when a fault last came or went
        self.reverted: list[tuple[float, str]] = []

    def advance_to(self, t: float) -> None:
        if t < self.now:
            raise ValueError(f"time goes forward only ({t} < {self.now})")
        self.now = t

    def apply_fault(self, scenario: Scenario, level: float | None, **timing: float) -> int:
        target = f"{scenario.target.namespace}/{scenario.target.workload}"
        if target not in self._targets:
            raise KeyError(f"no toy target {target}")
        self._next += 1
        down = scenario.fault == "target-down"
        self._faults[self._next] = _Fault(target, down, 1.0 if level is None else level)
        self.applied.append((self.now, target))
        self.changed_at = self.now
        return self._next

    def revert_fault(self, handle: int) -> None:
        fault = self._faults.pop(handle, None)
        if fault is not None:
            self.reverted.append((self.now, fault.target))
            self.changed_at = self.now

    def active_faults(self) -> list[int]:
        return list(self._faults)

    def targets(self) -> list[ToyTarget]:
        return list(self._targets.values())

    def _samples(self, target_id: str) -> list[tuple[str, dict[str, str], float]] | None:
        target = self._targets[target_id]
        faults = [f for f in self._faults.values() if f.target == target_id]
        if any(f.down for f in faults):
            return None
        level = max((f.level for f in faults), default=0.0)
        labels = {"namespace": target.labels["namespace"], "workload": target.job}
        return [("toy_fault_level", labels, level), ("toy_requests_total", labels, self.requests_total())]

    def requests_total(self) -> float:
        """The counter's value now, as exposed (millisecond precision)."""
        return round(self.now * self.rate_per_second, 3)

    def exposition(self, target_id: str, at: float | None = None) -> str | None:
        """The target's answer now, or as it was at ``at`` (back to the last fault applied or reverted)."""
        if at is not None and self.changed_at <= at < self.now:
            now, self.now = self.now, at
            try:
                return self.exposition(target_id)
            finally:
                self.now = now
        samples = self._samples(target_id)
        if samples is None:
            return None
        lines = []
        for name, labels, value in samples:
            inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
            lines += [
                f"# TYPE {name} {'counter' if name.endswith('_total') else 'gauge'}",
                f"{name}{{{inner}}} {format_value(value)}",
            ]
        return "\n".join(lines) + "\n"

    def stored_samples(self, names: Collection[str] | None = None) -> dict[SeriesKey, float]:
        """What Prometheus stores after scraping every target now (``up`` included), as the real cluster says."""
        stored: dict[SeriesKey, float] = {}
        for target in self._targets.values():
            samples = self._samples(target.id)
            for name, labels, value in samples or []:
                if names is None or name in names:
                    merged = merge_target_labels(labels, {"job": target.job, **target.labels}, honor=False)
                    stored[series_key(name, merged)] = value
            if names is None or "up" in names:
                stored[series_key("up", {"job": target.job, **target.labels})] = 0.0 if samples is None else 1.0
        return stored


WORKLOADS = [("toy", "alpha"), ("toy", "beta"), ("toy", "gamma")]
SOURCE = Source("hand-made", "tests", "toy")


def toy_cluster(_environment: Environment) -> ToyCluster:
    return ToyCluster(WORKLOADS)


def _alert(name: str, severity: str, receivers: dict[str, str], fault: str, workload: str) -> AlertContract:
    scenario = Scenario(id=fault, fault=fault, target=Target(namespace="toy", workload=workload))
    return AlertContract(
        name=name,
        severity=severity,
        meaning=name,
        source=SOURCE,
        threshold=None,
        for_=DocumentedDuration(60.0, True),
        window=None,
        receivers=receivers,
        scenarios=(scenario,),
    )


def toy_profile(pack_dir: Path) -> tuple[Profile, Pack]:
    """Three documented alerts of the toy pack in ``pack_dir``, routed in two set-ups (a plain file and a Secret)."""
    pack = load_pack(pack_dir)
    alerts = (
        _alert("ToyFaulty", "warning", {"main": "team-email", "secret": "everything"}, "error-rate", "alpha"),
        _alert("ToyDown", "critical", {"main": "pager", "secret": "everything"}, "target-down", "beta"),
        _alert("ToyAnyCritical", "page", {"main": "pager"}, "target-down", "beta"),
    )
    profile = Profile(
        name="toy",
        title="toy",
        path=pack_dir / "profile.yaml",
        seeds=(),
        pack_path=pack_dir,
        environment=Environment(nodes=(NodeSpec("node-1"),), namespaces=("toy",)),
        routing=(
            RoutingSetup("main", "file", "team-email", SOURCE),
            RoutingSetup("secret", "secret", "everything", SOURCE),
        ),
        alerts=alerts,
    )
    return profile, pack


def toy_runs(profile: Profile) -> list[ScenarioRun]:
    """Predictions as depth 3 would make them for the toy rules (fire after ``for`` + one scrape)."""
    fire = {"ToyFaulty": 75.0, "ToyDown": 45.0, "ToyAnyCritical": 60.0}
    labels = {
        "ToyFaulty": {"alertname": "ToyFaulty", "severity": "warning", "namespace": "toy", "workload": "alpha"},
        "ToyDown": {"alertname": "ToyDown", "severity": "critical", "job": "beta"},
        "ToyAnyCritical": {"alertname": "ToyAnyCritical", "severity": "page"},
    }
    runs = []
    for alert in profile.alerts:
        scenario = alert.scenarios[0]
        prediction = Prediction(
            alert_key=alert.key,
            alert=alert.name,
            scenario_id=scenario.id,
            level=None,
            hold_s=600.0,
            fire_after_s=fire[alert.name],
            revert_after_s=600.0,
            resolved_after_s=630.0,
            labels=(labels[alert.name],),
        )
        runs.append(ScenarioRun(alert, scenario, None, prediction))
    return runs
