"""fill-volume: write a file on the claim until its free space is the level (a share of its capacity).

The suite execs into a running pod that mounts the claim, reads ``df`` for the mount, and writes the difference
with ``fallocate`` (``dd`` where fallocate is missing). Where the file is written is recorded on the claim, so the
revert (and a later run, after a killed one) can remove it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.client import Obj
from conformance.kube.exec import checked
from conformance.kube.faults import FaultContext, Injector, Permission, patch_with_restore, restore
from conformance.kube.placement import ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario

FILL_ANNOTATION = "alert-conformance/fill"
FILL_FILE = ".alert-conformance-fill"


@dataclass(frozen=True)
class FillVolumeParams:
    """Fill until ``available_ratio`` of the capacity is left free."""

    available_ratio: float


@dataclass(frozen=True)
class Mount:
    pod: str
    container: str
    path: str

    @property
    def file(self) -> str:
        return f"{self.path.rstrip('/')}/{FILL_FILE}"


class FillVolume(Injector):
    fault = "fill-volume"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("fill-volume needs a level (the share of the capacity left free)")
        return cls(target, FillVolumeParams(float(level)))

    @property
    def claim(self) -> str:
        if self.target.claim is None:
            raise ValueError("fill-volume needs a volume claim target")
        return self.target.claim.name

    def describe(self) -> str:
        return (
            f"write {FILL_FILE} on {self.target.describe()} (exec in a pod mounting it) until "
            f"{self.params.available_ratio:.1%} of its capacity is free"
        )

    def describe_revert(self) -> str:
        return f"delete {FILL_FILE} from {self.target.describe()}"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            Permission("get", "persistentvolumeclaims", "", ns),
            Permission("patch", "persistentvolumeclaims", "", ns),
            Permission("list", "pods", "", ns),
            Permission("create", "pods", "", ns, "exec"),
        ]

    def apply(self, ctx: FaultContext) -> None:
        namespace = str(self.target.namespace)
        mount = find_mount(ctx, namespace, self.claim)
        patch = {"metadata": {"annotations": {FILL_ANNOTATION: json.dumps(mount.__dict__)}}}
        patch_with_restore(ctx, r.PVCS, self.claim, namespace, patch, self.fault)
        df = checked(
            ctx.executor(
                namespace, mount.pod, mount.container, ["df", "-Pk", mount.path], timeout_s=ctx.timeouts.exec_s
            ),
            f"df in {namespace}/{mount.pod}",
        )
        size, available = parse_df(df.stdout)
        to_write = available - int(self.params.available_ratio * size)
        if to_write <= 0:
            raise BackendError(
                f"{self.target.describe()} already has only {available / size:.1%} free; cannot fill to "
                f"{self.params.available_ratio:.1%}"
            )
        script = (
            f"fallocate -l {to_write} {mount.file} 2>/dev/null || "
            f"dd if=/dev/zero of={mount.file} bs=1024 count={to_write // 1024} 2>/dev/null; sync"
        )
        checked(
            ctx.executor(namespace, mount.pod, mount.container, ["sh", "-c", script], timeout_s=ctx.timeouts.exec_s),
            f"filling {self.target.describe()}",
        )

    def revert(self, ctx: FaultContext) -> None:
        pvc = ctx.client.get_or_none(r.PVCS, self.claim, self.target.namespace)
        if pvc is not None:
            self._remove_file(ctx, pvc)

    @classmethod
    def _remove_file(cls, ctx: FaultContext, pvc: Obj) -> None:
        meta = pvc["metadata"]
        recorded = (meta.get("annotations") or {}).get(FILL_ANNOTATION)
        if not recorded:
            return
        namespace = meta["namespace"]
        # The pod may have been replaced since: remove through whichever pod mounts the claim now.
        mount = find_mount(ctx, namespace, meta["name"])
        checked(
            ctx.executor(
                namespace, mount.pod, mount.container, ["rm", "-f", mount.file], timeout_s=ctx.timeouts.exec_s
            ),
            f"removing {mount.file}",
        )
        restore(ctx, r.PVCS, meta["name"], namespace)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        cls._remove_file(ctx, obj)
        return f"removed {FILL_FILE} from pvc {obj['metadata']['namespace']}/{obj['metadata']['name']}"


def find_mount(ctx: FaultContext, namespace: str, claim: str) -> Mount:
    """A running pod mounting ``claim``, the container mounting it and the mount path."""
    for pod in sorted(ctx.client.list(r.PODS, namespace), key=lambda p: str(p["metadata"]["name"])):
        if pod.get("status", {}).get("phase") != "Running":
            continue
        volumes = [
            v["name"]
            for v in pod["spec"].get("volumes", [])
            if v.get("persistentVolumeClaim", {}).get("claimName") == claim
        ]
        for container in pod["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                if mount["name"] in volumes and not mount.get("readOnly"):
                    return Mount(pod["metadata"]["name"], container["name"], mount["mountPath"])
    raise BackendError(f"no running pod in {namespace} mounts pvc {claim} writable; cannot fill it")


def parse_df(output: str) -> tuple[int, int]:
    """(size, available) in bytes from ``df -Pk <path>`` output."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    try:
        fields = lines[-1].split()
        return int(fields[1]) * 1024, int(fields[3]) * 1024
    except (IndexError, ValueError):
        raise BackendError(f"cannot read df output: {output.strip()[:200]!r}") from None
