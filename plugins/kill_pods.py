"""kill-pods: delete the workload's pods; its controller recreates them. Revert: wait until it is ready again."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.kube import resources as r
from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    wait_workload_ready,
    workload_permissions,
    workload_pods,
)
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class KillPodsParams:
    """``count`` pods (None: all), deleted with ``grace_period_s``."""

    count: int | None = None
    grace_period_s: int = 0


class KillPods(Injector):
    fault = "kill-pods"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        count = scenario.params.get("count")
        return cls(target, KillPodsParams(count=int(count) if count is not None else None))

    def describe(self) -> str:
        how_many = "every pod" if self.params.count is None else f"{self.params.count} pod(s)"
        return f"delete {how_many} of {self.target.describe()} (grace {self.params.grace_period_s}s)"

    def describe_revert(self) -> str:
        return f"nothing to undo: wait (with a deadline) until {self.target.describe()} is ready again"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            *workload_permissions(self.target, "get"),
            Permission("list", "pods", "", ns),
            Permission("delete", "pods", "", ns),
        ]

    def apply(self, ctx: FaultContext) -> None:
        pods = sorted(workload_pods(ctx, self.target), key=lambda p: str(p["metadata"]["name"]))
        chosen = pods if self.params.count is None else pods[: self.params.count]
        for pod in chosen:
            ctx.client.delete(
                r.PODS, pod["metadata"]["name"], self.target.namespace, grace_period_s=self.params.grace_period_s
            )

    def revert(self, ctx: FaultContext) -> None:
        wait_workload_ready(ctx, self.target)
