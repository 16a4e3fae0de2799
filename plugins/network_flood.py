"""network-flood: the workload's pods transmit at the level in bytes per second. Skipped on both backends.

On kind every node is a container on one host: traffic between them never leaves the host's bridge, and
1 GB/s there measures the CI machine's memory bandwidth, not a network. On an existing cluster no public image
holds a *set* transmit rate without extra tooling, and the suite does not flood a production network without a
level it can hold. The scenario is skipped with that reason, never faked.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario

KIND_REASON = (
    "a set transmit rate such as 1 GB/s inside kind cannot be honest: all kind nodes share one host "
    "bridge, so the traffic never crosses a real network"
)
CLUSTER_REASON = (
    "the suite cannot hold a set transmit rate on a real cluster with public images, and does not "
    "flood a production network without one"
)


@dataclass(frozen=True)
class FloodParams:
    bytes_per_second: float


class NetworkFlood(Injector):
    fault = "network-flood"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, FloodParams(float(level or 0.0)))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        return KIND_REASON if backend == "kind" else CLUSTER_REASON

    def describe(self) -> str:
        return f"transmit {self.params.bytes_per_second:g} B/s from {self.target.describe()}"

    def describe_revert(self) -> str:
        return "stop the traffic"

    def permissions(self) -> list[Permission]:
        return []

    def apply(self, ctx: FaultContext) -> None:
        raise BackendError(
            f"network-flood is skipped on {ctx.backend}: " + (KIND_REASON if ctx.backend == "kind" else CLUSTER_REASON)
        )

    def revert(self, ctx: FaultContext) -> None:
        """Nothing was applied."""
