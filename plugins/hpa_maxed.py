"""hpa-maxed: the workload's HorizontalPodAutoscaler gets ``spec.maxReplicas`` = the replicas it runs now.

The autoscaler then runs at its maximum (``status.currentReplicas == spec.maxReplicas``, max != min): the state
KubeHpaMaxedOut reads, the same on every backend. It needs no load and no metrics-server (kind has none): the
autoscaler's current replicas are the scale's ``spec.replicas``, which nothing changes. The HPA's original
``maxReplicas`` is recorded on it; the revert restores it.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.faults import (
    FaultContext,
    Injector,
    Permission,
    patch_with_restore,
    restore,
    workload_permissions,
    workload_resource,
)
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class HpaMaxedParams:
    autoscaler: str


class HpaMaxed(Injector):
    fault = "hpa-maxed"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, HpaMaxedParams(target.autoscaler.name if target.autoscaler else ""))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if target.autoscaler is None:
            return f"{target.describe()} has no HorizontalPodAutoscaler declared in the environment"
        return None

    def describe(self) -> str:
        return (
            f"set HorizontalPodAutoscaler {self.target.namespace}/{self.params.autoscaler}'s maxReplicas to the "
            f"replicas {self.target.describe()} runs"
        )

    def describe_revert(self) -> str:
        return f"restore HorizontalPodAutoscaler {self.target.namespace}/{self.params.autoscaler}'s maxReplicas"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            *workload_permissions(self.target, "get"),
            Permission("get", r.HPAS.plural, r.HPAS.group, ns),
            Permission("patch", r.HPAS.plural, r.HPAS.group, ns),
        ]

    def apply(self, ctx: FaultContext) -> None:
        workload = ctx.client.get(workload_resource(self.target), self.target.workload_name, self.target.namespace)
        replicas = int(workload.get("spec", {}).get("replicas", 1))
        hpa = ctx.client.get(r.HPAS, self.params.autoscaler, self.target.namespace)
        minimum = int(hpa.get("spec", {}).get("minReplicas", 1))
        if replicas <= minimum:
            raise BackendError(
                f"{self.target.describe()} runs {replicas} replicas, its autoscaler's minReplicas {minimum}: "
                "maxReplicas lowered to them would equal minReplicas, which is not maxed out"
            )
        patch = {"spec": {"maxReplicas": replicas}}
        patch_with_restore(ctx, r.HPAS, self.params.autoscaler, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        restore(ctx, r.HPAS, self.params.autoscaler, self.target.namespace)
