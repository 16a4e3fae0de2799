"""job-too-long: a run of the job that never completes (its container sleeps; no ``activeDeadlineSeconds``).

A new Job is created beside the declared one (:mod:`conformance_plugins._job_run`), named as the simulated cluster
names it (:func:`conformance.model.scenario.fault_job_name`). The Job controller sets its ``startTime`` when it
first syncs it and counts the Running pod in ``status.active`` until it is deleted. Revert: delete that Job and
its pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from conformance_plugins._job_run import JobRunFault

from conformance.kube.faults import Injector
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario, fault_job_name

#: Far past any alert's wait; the revert deletes the Job long before (``sleep infinity`` is not in every image).
SLEEP_S = 7 * 24 * 3600


class JobTooLong(JobRunFault):
    fault = "job-too-long"
    #: The container only sleeps: nothing to wait for when the revert deletes it.
    pod_spec: ClassVar[Mapping[str, Any]] = {"terminationGracePeriodSeconds": 0}

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        return cls(target, None)

    @property
    def job_name(self) -> str:
        job = self.target.job
        return fault_job_name(job.name if job else "job", job.cronjob if job else None, "running")

    def describe(self) -> str:
        return (
            f"create job {self.target.namespace}/{self.job_name} whose container sleeps {SLEEP_S}s, with no "
            f"activeDeadlineSeconds{self.owner_note}"
        )

    def container(self, image: str) -> dict[str, Any]:
        return {"name": "sleep", "image": image, "command": ["sleep", str(SLEEP_S)]}
