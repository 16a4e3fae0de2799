"""The shared shape of container stress faults: annotate the pod, start the stress by exec, kill it to revert."""

from __future__ import annotations

from conformance_plugins._stress import kill_argv

from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.exec import checked
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore, running_pod
from conformance.kube.resources import Resource

STRESS_CONTAINER_ANNOTATION = "alert-conformance/stress-container"


class ContainerStressFault(Injector):
    """Subclasses implement :meth:`stress_argv`; the pod carries the container name for the revert."""

    def stress_argv(self, ctx: FaultContext, pod: str) -> list[str]:
        raise NotImplementedError

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            Permission("get", "deployments", "apps", ns),
            Permission("list", "pods", "", ns),
            Permission("patch", "pods", "", ns),
            Permission("create", "pods", "", ns, "exec"),
        ]

    def apply(self, ctx: FaultContext) -> None:
        pod = running_pod(ctx, self.target)["metadata"]["name"]
        namespace = str(self.target.namespace)
        patch = {"metadata": {"annotations": {STRESS_CONTAINER_ANNOTATION: str(self.target.container)}}}
        patch_with_restore(ctx, r.PODS, pod, namespace, patch, self.fault)
        argv = self.stress_argv(ctx, pod)
        checked(
            ctx.executor(namespace, pod, self.target.container, argv, timeout_s=ctx.timeouts.exec_s),
            f"starting {self.fault} in {namespace}/{pod}",
        )

    def revert(self, ctx: FaultContext) -> None:
        namespace = str(self.target.namespace)
        for pod in ctx.client.list(r.PODS, namespace):
            annotations = pod["metadata"].get("annotations") or {}
            if (
                annotations.get("alert-conformance/fault") == self.fault
                and annotations.get(STRESS_CONTAINER_ANNOTATION) == self.target.container
            ):
                self._kill(ctx, pod)

    @classmethod
    def _kill(cls, ctx: FaultContext, pod: Obj) -> None:
        meta = pod["metadata"]
        container = (meta.get("annotations") or {}).get(STRESS_CONTAINER_ANNOTATION)
        if pod.get("status", {}).get("phase") == "Running":
            checked(
                ctx.executor(meta["namespace"], meta["name"], container, kill_argv(), timeout_s=ctx.timeouts.exec_s),
                f"stopping the stress in {meta['name']}",
            )
        restore(ctx, r.PODS, meta["name"], meta["namespace"])

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        cls._kill(ctx, obj)
        return f"killed the stress processes in pod {obj['metadata']['namespace']}/{obj['metadata']['name']}"
