"""job-too-long: a run of the job that never completes (its container sleeps; no ``activeDeadlineSeconds``).

A new Job is created beside the declared one, owned by its CronJob when there is one (so ``kube_job_owner`` links
it as a real run would be), named as the simulated cluster names it
(:func:`conformance.model.scenario.fault_job_name`). The Job controller sets its ``startTime`` when it first syncs
it and counts the Running pod in ``status.active`` until it is deleted. Revert: delete that Job and its pods.
"""

from __future__ import annotations

from typing import Any

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario, fault_job_name

#: Far past any alert's wait; the revert deletes the Job long before (``sleep infinity`` is not in every image).
SLEEP_S = 7 * 24 * 3600


class JobTooLong(Injector):
    fault = "job-too-long"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, None)

    @property
    def job_name(self) -> str:
        job = self.target.job
        return fault_job_name(job.name if job else "job", job.cronjob if job else None, "running")

    def describe(self) -> str:
        job = self.target.job
        owner = f", owned by cronjob {job.cronjob}" if job and job.cronjob else ""
        return (
            f"create job {self.target.namespace}/{self.job_name} whose container sleeps {SLEEP_S}s, with no "
            f"activeDeadlineSeconds{owner}"
        )

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
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "sleep", "image": image, "command": ["sleep", str(SLEEP_S)]}],
                },
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
