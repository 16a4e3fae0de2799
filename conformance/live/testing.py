"""A toy cluster for testing the twin's machinery without the full simulated cluster.

:class:`ToyCluster` meets :class:`~conformance.live.exporter.ClusterLike` with one scrape target per declared
workload (job = the workload's name). Each target exposes ``toy_fault_level{namespace,workload}`` (0 when
healthy, the fault's level or 1 under a fault) and ``toy_requests_total``, a counter growing at
``rate_per_second`` of virtual time. A ``target-down`` fault makes the target answer as down. It is a test
double for the pipeline (processes, scaling, routing, capture, verdicts), not a model of Kubernetes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class ToyTarget:
    id: str
    job: str
    metrics_path: str
    honor_labels: bool
    labels: dict[str, str] = field(default_factory=dict)
    node: str | None = None


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
        return self._next

    def revert_fault(self, handle: int) -> None:
        fault = self._faults.pop(handle, None)
        if fault is not None:
            self.reverted.append((self.now, fault.target))

    def active_faults(self) -> list[int]:
        return list(self._faults)

    def targets(self) -> list[ToyTarget]:
        return list(self._targets.values())

    def exposition(self, target_id: str) -> str | None:
        target = self._targets[target_id]
        faults = [f for f in self._faults.values() if f.target == target_id]
        if any(f.down for f in faults):
            return None
        level = max((f.level for f in faults), default=0.0)
        labels = f'namespace="{target.labels["namespace"]}",workload="{target.job}"'
        return (
            "# TYPE toy_fault_level gauge\n"
            f"toy_fault_level{{{labels}}} {level:g}\n"
            "# TYPE toy_requests_total counter\n"
            f"toy_requests_total{{{labels}}} {self.now * self.rate_per_second:.3f}\n"
        )
