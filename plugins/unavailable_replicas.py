"""unavailable-replicas: ``level`` replicas cannot become ready while the desired count stays (never a scale to 0).

* Deployment: a new template with an unsatisfiable nodeSelector, rolled with ``maxSurge: 0`` and
  ``maxUnavailable: <level>``, so exactly ``level`` old pods are replaced by Pending ones.
* StatefulSet: the same template with ``updateStrategy: OnDelete``; the ``level`` highest ordinals are deleted
  and come back Pending.
* DaemonSet: a nodeSelector would shrink the desired count, so a readiness probe that never passes is rolled
  with ``maxUnavailable: <level>`` instead.

Revert: restore the template and strategy recorded on the workload, wait for the rollout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance_plugins._templates import failing_readiness_template, unschedulable_template

from conformance.kube import resources as r
from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    patch_with_restore,
    restore,
    wait_workload_ready,
    workload_permissions,
    workload_pods,
    workload_resource,
)
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class UnavailableParams:
    unavailable: int


class UnavailableReplicas(Injector):
    fault = "unavailable-replicas"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("unavailable-replicas needs a level (the number of unavailable replicas)")
        return cls(target, UnavailableParams(max(1, round(level))))

    def describe(self) -> str:
        n = self.params.unavailable
        how = {
            "Deployment": "new template with an unsatisfiable nodeSelector, maxSurge 0, maxUnavailable",
            "StatefulSet": "OnDelete + unsatisfiable nodeSelector, then delete the highest ordinals:",
            "DaemonSet": "a readiness probe that never passes, maxUnavailable",
        }[self.target.workload_kind]
        return f"make {n} replica(s) of {self.target.describe()} unavailable, desired count kept ({how} {n})"

    def describe_revert(self) -> str:
        return f"restore the pod template and update strategy of {self.target.describe()}, wait for the rollout"

    def permissions(self) -> list[Permission]:
        extra = (
            [
                Permission("list", "pods", "", self.target.namespace),
                Permission("delete", "pods", "", self.target.namespace),
            ]
            if self.target.workload_kind == "StatefulSet"
            else []
        )
        return [*workload_permissions(self.target, "get", "patch"), *extra]

    def patch_for(self, workload: dict[str, Any], run_id: str) -> dict[str, Any]:
        """The exact patch; it never contains ``spec.replicas``."""
        n = self.params.unavailable
        kind = self.target.workload_kind
        if kind == "Deployment":
            patch = unschedulable_template(run_id)
            patch["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": n}}
        elif kind == "StatefulSet":
            patch = unschedulable_template(run_id)
            patch["spec"]["updateStrategy"] = {"type": "OnDelete", "rollingUpdate": None}
        else:
            patch = failing_readiness_template(workload)
            patch["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": n}}
        return patch

    def apply(self, ctx: FaultContext) -> None:
        resource = workload_resource(self.target)
        workload = ctx.client.get(resource, self.target.workload_name, self.target.namespace)
        patch = self.patch_for(workload, ctx.run_id)
        patch_with_restore(ctx, resource, self.target.workload_name, self.target.namespace, patch, self.fault)
        if self.target.workload_kind == "StatefulSet":
            pods = sorted(workload_pods(ctx, self.target), key=lambda p: _ordinal(p["metadata"]["name"]))
            for pod in pods[-self.params.unavailable :]:
                ctx.client.delete(r.PODS, pod["metadata"]["name"], self.target.namespace, grace_period_s=0)

    def revert(self, ctx: FaultContext) -> None:
        if restore(ctx, workload_resource(self.target), self.target.workload_name, self.target.namespace):
            if self.target.workload_kind == "StatefulSet":
                # Pending pods of the bad revision are not replaced by themselves under the old strategy.
                for pod in workload_pods(ctx, self.target):
                    if pod.get("status", {}).get("phase") == "Pending":
                        ctx.client.delete(r.PODS, pod["metadata"]["name"], self.target.namespace, grace_period_s=0)
            wait_workload_ready(ctx, self.target)


def _ordinal(name: str) -> int:
    tail = name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1
