"""memory-near-limit: a process inside the container holds memory until the working set is the level x limit.

The container's current usage is read from its cgroup first, so the process adds only the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance_plugins._exec_stress import ContainerStressFault
from conformance_plugins._stress import CGROUP_MEMORY_ARGV, memory_hog_argv

from conformance.errors import BackendError
from conformance.kube.exec import checked
from conformance.kube.faults import FaultContext, Injector
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class MemoryParams:
    ratio: float
    limit_bytes: int
    max_hold_s: int = 1800


def _limit(target: ResolvedTarget) -> int | None:
    if target.workload is None:
        return None
    for container in target.workload.containers:
        if container.name == target.container:
            return container.memory_limit_bytes
    return None


class MemoryNearLimit(ContainerStressFault):
    fault = "memory-near-limit"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("memory-near-limit needs a level (share of the memory limit)")
        return cls(
            target, MemoryParams(float(level), _limit(target) or 0, int(scenario.params.get("max_hold_s", 1800)))
        )

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if not _limit(target):
            return f"{target.describe()} has no memory limit to come near"
        return None

    def params_skip_reason(self, backend: BackendName) -> str | None:
        if self.params.ratio >= 1.0:
            return (
                f"a level of {self.params.ratio:g} asks for the container itself to be OOM-killed; the exec'd "
                "stress process would be the one the kernel kills (the largest in the cgroup), the container "
                "would survive without a restart or an OOMKilled status"
            )
        return None

    def describe(self) -> str:
        return (
            f"hold memory in {self.target.describe()} until its working set is {self.params.ratio:.0%} "
            f"of the {self.params.limit_bytes / 2**20:g}Mi limit"
        )

    def describe_revert(self) -> str:
        return f"kill the stress process in {self.target.describe()}"

    def stress_argv(self, ctx: FaultContext, pod: str) -> list[str]:
        namespace = str(self.target.namespace)
        usage = checked(
            ctx.executor(namespace, pod, self.target.container, CGROUP_MEMORY_ARGV, timeout_s=ctx.timeouts.exec_s),
            f"reading memory use in {pod}",
        )
        try:
            current = int(usage.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            raise BackendError(f"cannot read the cgroup memory use of {pod}: {usage.stdout!r}") from None
        hold = int(self.params.ratio * self.params.limit_bytes) - current
        if hold <= 0:
            raise BackendError(f"{self.target.describe()} already uses {current} bytes, past the level")
        return memory_hog_argv(hold, self.params.max_hold_s)
