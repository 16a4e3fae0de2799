"""node-memory-pressure: a pod pinned to the node holds memory until the node's use is the level.

Skipped on kind: kind nodes are containers sharing one host kernel, and node-exporter reports the *host's*
memory, so reaching the level there means pushing the CI machine itself towards its limit. On an existing
cluster: a busybox pod with ``nodeName`` set reads ``/proc/meminfo``, then an awk process holds the difference.
Revert: delete the pod (it also carries the run's labels, so a later run deletes a leftover one).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance_plugins._stress import memory_hog_argv

from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import pod_ready
from conformance.kube.exec import checked
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.model.scenario import Scenario

STRESS_IMAGE = "busybox:1.36"


@dataclass(frozen=True)
class NodeMemoryParams:
    ratio: float
    namespace: str = "default"
    max_hold_s: int = 1800


class NodeMemoryPressure(Injector):
    fault = "node-memory-pressure"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("node-memory-pressure needs a level (share of the node's memory in use)")
        namespace = str(scenario.params.get("namespace", target.namespace or target.work_namespace or "default"))
        return cls(target, NodeMemoryParams(float(level), namespace, int(scenario.params.get("max_hold_s", 1800))))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if backend == "kind":
            return (
                "kind nodes share the host's kernel and node-exporter reports the host's memory: pushing it "
                "to the level would pressure the CI machine itself, not a node"
            )
        return None

    @property
    def pod_name(self) -> str:
        return f"alert-conformance-memory-{self.target.node}"[:63].rstrip("-.")

    def describe(self) -> str:
        return (
            f"run pod {self.params.namespace}/{self.pod_name} on node {self.target.node} holding memory until "
            f"{self.params.ratio:.0%} of the node's memory is in use"
        )

    def describe_revert(self) -> str:
        return f"delete pod {self.params.namespace}/{self.pod_name}"

    def permissions(self) -> list[Permission]:
        ns = self.params.namespace
        return [
            Permission("create", "pods", "", ns),
            Permission("get", "pods", "", ns),
            Permission("delete", "pods", "", ns),
            Permission("create", "pods", "", ns, "exec"),
        ]

    def apply(self, ctx: FaultContext) -> None:
        ns = self.params.namespace
        meta = {
            "name": self.pod_name,
            "labels": lb.managed_labels(ctx.run_id, created=True),
            "annotations": {lb.FAULT_ANNOTATION: self.fault},
        }
        spec = {
            "nodeName": self.target.node,
            "restartPolicy": "Never",
            "tolerations": [{"operator": "Exists"}],
            "containers": [
                {"name": "stress", "image": STRESS_IMAGE, "command": ["sleep", str(self.params.max_hold_s)]}
            ],
        }
        ctx.client.create(r.PODS, {"metadata": meta, "spec": spec}, ns)

        def ready() -> bool | None:
            return True if pod_ready(ctx.client.get(r.PODS, self.pod_name, ns)) else None

        ctx.client.wait_for(
            f"pod {ns}/{self.pod_name} to run", ready, timeout_s=ctx.timeouts.rollout_s, interval_s=ctx.timeouts.poll_s
        )
        meminfo = checked(
            ctx.executor(ns, self.pod_name, "stress", ["cat", "/proc/meminfo"], timeout_s=ctx.timeouts.exec_s),
            "reading /proc/meminfo",
        )
        total, available = parse_meminfo(meminfo.stdout)
        hold = int(self.params.ratio * total) - (total - available)
        if hold <= 0:
            raise BackendError(f"node {self.target.node} already uses {(total - available) / total:.0%} of its memory")
        checked(
            ctx.executor(
                ns,
                self.pod_name,
                "stress",
                memory_hog_argv(hold, self.params.max_hold_s),
                timeout_s=ctx.timeouts.exec_s,
            ),
            "starting the memory hog",
        )

    def revert(self, ctx: FaultContext) -> None:
        if ctx.client.delete(r.PODS, self.pod_name, self.params.namespace, grace_period_s=0):
            ctx.client.wait_gone(
                r.PODS,
                self.pod_name,
                self.params.namespace,
                timeout_s=ctx.timeouts.delete_s,
                interval_s=ctx.timeouts.poll_s,
            )


def parse_meminfo(text: str) -> tuple[int, int]:
    """(MemTotal, MemAvailable) in bytes."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key.strip()] = int(parts[0]) * 1024
    try:
        return values["MemTotal"], values["MemAvailable"]
    except KeyError:
        raise BackendError("cannot read MemTotal/MemAvailable from /proc/meminfo") from None
