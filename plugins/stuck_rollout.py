"""stuck-rollout: a new revision whose pods cannot become ready (updated < desired, unavailable > 0).

The workload keeps its own update strategy; only the template changes (an unsatisfiable nodeSelector, or a
readiness probe that never passes for a DaemonSet). Deployments get ``progressDeadlineSeconds`` when the scenario
sets ``progress_deadline_s``, so ``Progressing=False`` comes as the alert expects. Revert: restore, wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance_plugins._templates import failing_readiness_template, unschedulable_template

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
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class StuckRolloutParams:
    progress_deadline_s: int | None = None


class StuckRollout(Injector):
    fault = "stuck-rollout"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        deadline = scenario.params.get("progress_deadline_s")
        return cls(target, StuckRolloutParams(int(deadline) if deadline is not None else None))

    def describe(self) -> str:
        how = (
            "a readiness probe that never passes"
            if self.target.workload_kind == "DaemonSet"
            else "an unsatisfiable nodeSelector"
        )
        deadline = (
            f", progressDeadlineSeconds {self.params.progress_deadline_s}"
            if self.params.progress_deadline_s is not None
            else ""
        )
        return f"roll out a new revision of {self.target.describe()} with {how}{deadline}"

    def describe_revert(self) -> str:
        return f"restore the previous pod template of {self.target.describe()} and wait for the rollout"

    def permissions(self) -> list[Permission]:
        return workload_permissions(self.target, "get", "patch")

    def apply(self, ctx: FaultContext) -> None:
        resource = workload_resource(self.target)
        workload = ctx.client.get(resource, self.target.workload_name, self.target.namespace)
        if self.target.workload_kind == "DaemonSet":
            patch = failing_readiness_template(workload)
        else:
            patch = unschedulable_template(ctx.run_id)
        if self.params.progress_deadline_s is not None and self.target.workload_kind == "Deployment":
            patch["spec"]["progressDeadlineSeconds"] = self.params.progress_deadline_s
        patch_with_restore(ctx, resource, self.target.workload_name, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        if restore(ctx, workload_resource(self.target), self.target.workload_name, self.target.namespace):
            wait_workload_ready(ctx, self.target)
