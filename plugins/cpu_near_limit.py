"""cpu-near-limit: busy loops inside the container push its CPU use to the level x limit.

One busy loop uses one core; ``ceil(level x limit)`` of them run and the container's CFS quota caps the total at
the limit, so the measured share is at least the level (exactly the limit when the level rounds up to it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conformance_plugins._exec_stress import ContainerStressFault
from conformance_plugins._stress import cpu_burner_argv

from conformance.kube.faults import FaultContext, Injector
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class CpuParams:
    ratio: float
    limit_cores: float
    max_hold_s: int = 1800

    @property
    def processes(self) -> int:
        return max(1, math.ceil(self.ratio * self.limit_cores - 1e-9))


def cpu_limit(target: ResolvedTarget) -> float | None:
    if target.workload is None:
        return None
    for container in target.workload.containers:
        if container.name == target.container:
            return container.cpu_limit_cores
    return None


class CpuNearLimit(ContainerStressFault):
    fault = "cpu-near-limit"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("cpu-near-limit needs a level (share of the CPU limit)")
        return cls(
            target, CpuParams(float(level), cpu_limit(target) or 0.0, int(scenario.params.get("max_hold_s", 1800)))
        )

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if not cpu_limit(target):
            return f"{target.describe()} has no CPU limit to come near"
        return None

    def describe(self) -> str:
        return (
            f"run {self.params.processes} busy loop(s) in {self.target.describe()}: CPU at least "
            f"{self.params.ratio:.0%} of the {self.params.limit_cores:g}-core limit"
        )

    def describe_revert(self) -> str:
        return f"kill the busy loops in {self.target.describe()}"

    def stress_argv(self, ctx: FaultContext, pod: str) -> list[str]:
        return cpu_burner_argv(self.params.processes, self.params.max_hold_s)
