"""fail-job: a run of the job that fails (``backoffLimit: 0``, the container exits 1).

A new Job is created beside the declared one, owned by its CronJob when there is one (so ``kube_job_owner``
links it as a real run would be). Revert: delete that Job and its pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


@dataclass(frozen=True)
class FailJobParams:
    exit_code: int = 1


class FailJob(Injector):
    fault = "fail-job"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, FailJobParams(int(scenario.params.get("exit_code", 1))))

    @property
    def job_name(self) -> str:
        base = self.target.job.cronjob or self.target.job.name if self.target.job else "job"
        return f"{base}-failed-by-alert-conformance"[:63].rstrip("-")

    def describe(self) -> str:
        owner = f", owned by cronjob {self.target.job.cronjob}" if self.target.job and self.target.job.cronjob else ""
        return (
            f"create job {self.target.namespace}/{self.job_name} exiting {self.params.exit_code} with "
            f"backoffLimit 0{owner}"
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
                    "containers": [
                        {"name": "fail", "image": image, "command": ["sh", "-c", f"exit {self.params.exit_code}"]}
                    ],
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
