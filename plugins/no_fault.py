"""none: no fault at all. The scenario of an alert documented to fire on a healthy cluster (Watchdog): nothing is
changed on the cluster, so there is nothing to revert and no permission is needed."""

from __future__ import annotations

from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import NO_FAULT, Scenario


class NoFault(Injector):
    fault = NO_FAULT
    disruptive = False

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, None)

    def describe(self) -> str:
        return "nothing: the healthy cluster as it is (the alert is documented to fire all the time)"

    def describe_revert(self) -> str:
        return "nothing to undo"

    def permissions(self) -> list[Permission]:
        return []

    def apply(self, ctx: FaultContext) -> None:
        """Nothing changes."""

    def revert(self, ctx: FaultContext) -> None:
        """Nothing was changed."""
