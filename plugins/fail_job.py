"""fail-job: a run of the job that fails (``backoffLimit: 0``, the container exits 1).

A new Job is created beside the declared one (:mod:`conformance_plugins._job_run`), named as the simulated cluster
names it (:func:`conformance.model.scenario.fault_job_name`). Revert: delete that Job and its pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conformance_plugins._job_run import JobRunFault

from conformance.kube.faults import Injector
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario, fault_job_name


@dataclass(frozen=True)
class FailJobParams:
    exit_code: int = 1


class FailJob(JobRunFault):
    fault = "fail-job"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, FailJobParams(int(scenario.params.get("exit_code", 1))))

    @property
    def job_name(self) -> str:
        job = self.target.job
        return fault_job_name(job.name if job else "job", job.cronjob if job else None, "failed")

    def describe(self) -> str:
        return (
            f"create job {self.target.namespace}/{self.job_name} exiting {self.params.exit_code} with "
            f"backoffLimit 0{self.owner_note}"
        )

    def container(self, image: str) -> dict[str, Any]:
        return {"name": "fail", "image": image, "command": ["sh", "-c", f"exit {self.params.exit_code}"]}
