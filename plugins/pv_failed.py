"""pv-failed: a PersistentVolume whose reclaim fails, so the PV controller marks it Failed.

Beside the target claim (which is not touched), in its namespace: a hostPath PV with reclaim policy Delete and no
storage class, pre-bound to a claim of its own, and that claim. Once the claim is Bound it is deleted: the PV
controller (pkg/controller/volume/persistentvolume, ``deleteVolumeOperation``) finds the volume released and asks
the in-tree hostPath plugin to delete it, whose deleter refuses any path outside ``/tmp``
(pkg/volume/hostpath/host_path.go, ``hostPathDeleter.Delete``: "host_path deleter only supports /tmp/.+"); the
failed delete sets the phase ``Failed`` (event ``VolumeFailedDelete``). kube-controller-manager always has that
plugin (cmd/kube-controller-manager/app/plugins.go, ``ProbeControllerVolumePlugins``: its
``EnableHostPathProvisioning`` gates only the provisioner). No pod mounts the volume, so nothing is written to the
node. Revert: delete the claim if still there, and the PV.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import Obj, WaitTimeoutError
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario, injected_name, param_value

CAPACITY = "1Gi"


@dataclass(frozen=True)
class PvFailedParams:
    host_path: str


class PvFailed(Injector):
    fault = "pv-failed"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        host_path = str(param_value(scenario, "host_path"))
        if host_path.startswith("/tmp/"):
            raise ValueError(f"pv-failed: host_path {host_path} is under /tmp, where the hostPath deleter succeeds")
        return cls(target, PvFailedParams(host_path))

    @property
    def name(self) -> str:
        """The PV's and its claim's name (as the simulated cluster names the PV)."""
        claim = self.target.claim.name if self.target.claim else "volume"
        return injected_name(claim, "failed-pv")

    def describe(self) -> str:
        return (
            f"create PV {self.name} (hostPath {self.params.host_path}, reclaim policy Delete) bound to claim "
            f"{self.target.namespace}/{self.name}, then delete the claim: the hostPath deleter refuses the path "
            "and the PV turns Failed"
        )

    def describe_revert(self) -> str:
        return f"delete claim {self.target.namespace}/{self.name} (if still there) and PV {self.name}"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        return [
            Permission("create", "persistentvolumes"),
            Permission("get", "persistentvolumes"),
            Permission("delete", "persistentvolumes"),
            Permission("create", "persistentvolumeclaims", "", ns),
            Permission("get", "persistentvolumeclaims", "", ns),
            Permission("delete", "persistentvolumeclaims", "", ns),
        ]

    def _meta(self, ctx: FaultContext) -> dict[str, Any]:
        return {
            "name": self.name,
            "labels": lb.managed_labels(ctx.run_id, created=True),
            "annotations": {lb.FAULT_ANNOTATION: self.fault},
        }

    def apply(self, ctx: FaultContext) -> None:
        namespace = str(self.target.namespace)
        pv_spec = {
            "capacity": {"storage": CAPACITY},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": "",
            "hostPath": {"path": self.params.host_path},
            "claimRef": {"namespace": namespace, "name": self.name},
        }
        ctx.client.create(r.PVS, {"metadata": self._meta(ctx), "spec": pv_spec})
        claim_spec = {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "",
            "volumeName": self.name,
            "resources": {"requests": {"storage": CAPACITY}},
        }
        ctx.client.create(r.PVCS, {"metadata": self._meta(ctx), "spec": claim_spec}, namespace)
        # Deleted before it is bound, the claim would leave the PV Available: wait for the binding first.
        ctx.client.wait_for(
            f"claim {namespace}/{self.name} to be Bound",
            lambda: _phase_is(ctx.client.get(r.PVCS, self.name, namespace), "Bound"),
            timeout_s=ctx.timeouts.delete_s,
            interval_s=ctx.timeouts.poll_s,
        )
        ctx.client.delete(r.PVCS, self.name, namespace)
        try:
            ctx.client.wait_for(
                f"PV {self.name} to be Failed",
                lambda: _phase_is(ctx.client.get(r.PVS, self.name), "Failed"),
                timeout_s=ctx.timeouts.delete_s,
                interval_s=ctx.timeouts.poll_s,
            )
        except WaitTimeoutError as error:
            raise BackendError(
                f"pv-failed: PV {self.name} did not turn Failed after its claim was deleted ({error}); is the "
                "in-tree hostPath plugin's deleter available to the cluster's kube-controller-manager?"
            ) from None

    def revert(self, ctx: FaultContext) -> None:
        namespace = str(self.target.namespace)
        ctx.client.delete(r.PVCS, self.name, namespace)
        if ctx.client.delete(r.PVS, self.name):
            ctx.client.wait_gone(r.PVS, self.name, timeout_s=ctx.timeouts.delete_s, interval_s=ctx.timeouts.poll_s)


def _phase_is(obj: Obj, phase: str) -> bool | None:
    return True if obj.get("status", {}).get("phase") == phase else None
