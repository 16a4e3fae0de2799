"""A run of a declared job created beside it by a fault: the Job, its owner and its clean-up, shared by the faults
that differ only in what the run's container does (fail-job, job-too-long).

The Job is owned by the declared job's CronJob when there is one, so that ``kube_job_owner`` links it as a real
run would be; its pods never restart (``restartPolicy: Never``, ``backoffLimit: 0``). Revert: delete the Job and
its pods and wait until it is gone.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission


class JobRunFault(Injector):
    """A fault that creates one run of the target job; subclasses say its name and its container."""

    @property
    @abstractmethod
    def job_name(self) -> str:
        """The created Job's name."""

    @abstractmethod
    def container(self, image: str) -> dict[str, Any]:
        """The run's one container, on the declared job's image."""

    #: The created pod's extra spec fields (e.g. no grace period for a container that never ends by itself).
    pod_spec: ClassVar[Mapping[str, Any]] = {}

    @property
    def owner_note(self) -> str:
        job = self.target.job
        return f", owned by cronjob {job.cronjob}" if job and job.cronjob else ""

    def describe_revert(self) -> str:
        return f"delete job {self.target.namespace}/{self.job_name} and its pods"

    def permissions(self) -> list[Permission]:
        ns = self.target.namespace
        perms = [
            Permission("create", "jobs", "batch", ns),
            Permission("delete", "jobs", "batch", ns),
            Permission("get", "jobs", "batch", ns),
        ]
        if self.target.job and self.target.job.cronjob:
            perms.append(Permission("get", "cronjobs", "batch", ns))
        return perms

    def apply(self, ctx: FaultContext) -> None:
        job = self.target.job
        image = job.image if job else "busybox:1.36"
        meta: dict[str, Any] = {
            "name": self.job_name,
            "labels": lb.managed_labels(ctx.run_id, created=True),
            "annotations": {lb.FAULT_ANNOTATION: self.fault},
        }
        if job and job.cronjob:
            cron = ctx.client.get(r.CRONJOBS, job.cronjob, self.target.namespace)
            meta["ownerReferences"] = [
                {"apiVersion": "batch/v1", "kind": "CronJob", "name": job.cronjob, "uid": cron["metadata"]["uid"]}
            ]
        spec = {
            "backoffLimit": 0,
            "template": {
                "metadata": {"labels": lb.managed_labels(ctx.run_id)},
                "spec": {"restartPolicy": "Never", **self.pod_spec, "containers": [self.container(image)]},
            },
        }
        ctx.client.create(r.JOBS, {"metadata": meta, "spec": spec}, self.target.namespace)

    def revert(self, ctx: FaultContext) -> None:
        if ctx.client.delete(r.JOBS, self.job_name, self.target.namespace, propagation="Background"):
            ctx.client.wait_gone(
                r.JOBS,
                self.job_name,
                self.target.namespace,
                timeout_s=ctx.timeouts.delete_s,
                interval_s=ctx.timeouts.poll_s,
            )
