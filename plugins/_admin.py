"""Faults that steer the stand-in exporter through its admin endpoint, reached via the API server's pod proxy.

The stand-in exporter (``conformance/kube/data/standin/exporter.py``) answers ``POST /admin/set/<key>/<value>`` and
``POST /admin/reset`` on its metrics port. These faults only exist for stand-ins: a vendor's real component has
no such endpoint, so on a real workload they are skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore, workload_pods
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class AdminParams:
    """``key`` is the exporter setting (``error_ratio``, ``latency_seconds``, ``rate/<metric>`` ...)."""

    key: str
    value: float


class AdminEndpointFault(Injector):
    """Sets one exporter setting on every pod of the workload; the revert resets the exporter."""

    disruptive = False
    setting: ClassVar[str] = ""

    @classmethod
    def key_for(cls, scenario: Scenario) -> str:
        return cls.setting

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError(f"fault {cls.fault} needs a level")
        return cls(target, AdminParams(cls.key_for(scenario), float(level)))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if not target.standin:
            return (
                f"{cls.fault} steers the suite's stand-in exporter; {target.describe()} is the vendor's real "
                "component, which has no fault endpoint"
            )
        if target.workload is None or target.workload.scrape is None:
            return f"{target.describe()} has no metrics port for the stand-in exporter"
        return None

    @property
    def port(self) -> int:
        return self.target.workload.scrape.port if self.target.workload and self.target.workload.scrape else 8080

    def describe(self) -> str:
        return f"set {self.params.key}={self.params.value:g} on the stand-in exporter of {self.target.describe()}"

    def describe_revert(self) -> str:
        return f"reset the stand-in exporter of {self.target.describe()} to its healthy baseline"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            Permission("get", "deployments", "apps", ns),
            Permission("list", "pods", "", ns),
            Permission("patch", "pods", "", ns),
            Permission("create", "pods", "", ns, "proxy"),
        ]

    def apply(self, ctx: FaultContext) -> None:
        for pod in workload_pods(ctx, self.target):
            name = pod["metadata"]["name"]
            patch_with_restore(ctx, r.PODS, name, self.target.namespace, {}, self.fault)
            path = f"admin/set/{self.params.key}/{self.params.value:g}"
            ctx.client.proxy("POST", "pods", str(self.target.namespace), name, self.port, path)

    def revert(self, ctx: FaultContext) -> None:
        for pod in workload_pods(ctx, self.target):
            self._reset(ctx, pod, self.port)

    @classmethod
    def _reset(cls, ctx: FaultContext, pod: Obj, port: int) -> None:
        meta = pod["metadata"]
        if restore(ctx, r.PODS, meta["name"], meta["namespace"]):
            ctx.client.proxy("POST", "pods", meta["namespace"], meta["name"], port, "admin/reset")

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        ports = [p.get("containerPort") for c in obj["spec"]["containers"] for p in c.get("ports", [])]
        cls._reset(ctx, obj, int(ports[0]) if ports and ports[0] else 8080)
        return f"reset the stand-in exporter of pod {obj['metadata']['namespace']}/{obj['metadata']['name']}"
