"""Faults that patch a policy object declared over a workload (its HorizontalPodAutoscaler, its
PodDisruptionBudget): the object's name from the environment, the permissions, the patch recorded on the object
for its restore, and the revert that restores it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

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
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class PolicyParams:
    #: the policy object's name, as the environment declares it over the target workload
    name: str


class WorkloadPolicyFault(Injector):
    """A fault on the policy object of kind :attr:`policy` declared over the target workload."""

    policy: ClassVar[Resource]

    @classmethod
    @abstractmethod
    def policy_name(cls, target: ResolvedTarget) -> str | None:
        """The declared policy object's name over ``target``, None where the environment declares none."""

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, PolicyParams(cls.policy_name(target) or ""))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if cls.policy_name(target) is None:
            return f"{target.describe()} has no {cls.policy.kind} declared in the environment"
        return None

    @property
    def policy_ref(self) -> str:
        """``HorizontalPodAutoscaler shop/frontend``: the object, for the plan's lines."""
        return f"{self.policy.kind} {self.target.namespace}/{self.params.name}"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            *workload_permissions(self.target, "get"),
            Permission("get", self.policy.plural, self.policy.group, ns),
            Permission("patch", self.policy.plural, self.policy.group, ns),
        ]

    def workload_replicas(self, ctx: FaultContext) -> int:
        """The replicas the target workload's spec asks for now."""
        workload = ctx.client.get(workload_resource(self.target), self.target.workload_name, self.target.namespace)
        return int(workload.get("spec", {}).get("replicas", 1))

    def patch_policy(self, ctx: FaultContext, patch: dict[str, Any]) -> None:
        """Merge-patch the policy object, its original recorded on it for the revert."""
        patch_with_restore(ctx, self.policy, self.params.name, self.target.namespace, patch, self.fault)

    def revert(self, ctx: FaultContext) -> None:
        restore(ctx, self.policy, self.params.name, self.target.namespace)
