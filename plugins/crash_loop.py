"""crash-loop: the container exits after ``run_seconds``; the kubelet restarts it with its back-off.

The pod template's command is replaced (the container needs ``sh``, as the stand-ins' busybox has); the merge
patch that restores the original containers is stored on the workload. Revert: restore, wait for the rollout.

The twin's ``pods: one`` (only the first pod crashes) cannot be had this way: every pod of a workload shares its
template, so such a scenario is skipped with that reason rather than run with every pod crashing.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance_plugins._templates import crashing_container_template

from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    patch_with_restore,
    restore,
    wait_workload_ready,
    workload_permissions,
    workload_resource,
)
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class CrashLoopParams:
    run_seconds: float = 5.0
    exit_code: int = 1
    pods: str = "all"


class CrashLoop(Injector):
    fault = "crash-loop"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(
            target,
            CrashLoopParams(
                run_seconds=float(scenario.params.get("run_seconds", 5)),
                exit_code=int(scenario.params.get("exit_code", 1)),
                pods=str(scenario.params.get("pods", "all")),
            ),
        )

    def params_skip_reason(self, backend: BackendName) -> str | None:
        if self.params.pods == "one":
            return (
                "pods: one asks for a single crashing pod, but the fault patches the pod template every pod of "
                "the workload shares: all of them would crash"
            )
        return None

    def describe(self) -> str:
        return (
            f"patch {self.target.describe()}: command `sh -c 'sleep {self.params.run_seconds:g}; "
            f"exit {self.params.exit_code}'` (the kubelet restarts it with back-off)"
        )

    def describe_revert(self) -> str:
        return f"restore the original pod template of {self.target.describe()} and wait for the rollout"

    def permissions(self) -> list[Permission]:
        return workload_permissions(self.target, "get", "patch")

    def apply(self, ctx: FaultContext) -> None:
        resource = workload_resource(self.target)
        workload = ctx.client.get(resource, self.target.workload_name, self.target.namespace)
        patch = crashing_container_template(
            workload, str(self.target.container), self.params.run_seconds, self.params.exit_code
        )
        patch_with_restore(ctx, resource, self.target.workload_name, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        if restore(ctx, workload_resource(self.target), self.target.workload_name, self.target.namespace):
            wait_workload_ready(ctx, self.target)
