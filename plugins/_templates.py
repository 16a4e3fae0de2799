"""Pod-template patches shared by the workload faults (crash loop, unavailable replicas, stuck rollout)."""

from __future__ import annotations

import copy
from typing import Any

from conformance.kube.client import Obj

#: a node label no node has: pods carrying it as a nodeSelector stay Pending, so they never become ready
UNSCHEDULABLE_LABEL = "alert-conformance/unschedulable"


def unschedulable_template(run_id: str) -> dict[str, Any]:
    """A template patch whose pods cannot be scheduled (a new revision, as the run id differs each run)."""
    return {"spec": {"template": {"spec": {"nodeSelector": {UNSCHEDULABLE_LABEL: run_id}}}}}


def failing_readiness_template(workload: Obj) -> dict[str, Any]:
    """A template patch giving every container a readiness probe that never succeeds (no binary needed)."""
    containers = copy.deepcopy(workload["spec"]["template"]["spec"]["containers"])
    for container in containers:
        container["readinessProbe"] = {
            "tcpSocket": {"port": 1},  # nothing listens on port 1 inside a pod
            "periodSeconds": 5,
            "failureThreshold": 1,
        }
    return {"spec": {"template": {"spec": {"containers": containers}}}}


def crashing_container_template(workload: Obj, container: str, run_seconds: float, exit_code: int) -> dict[str, Any]:
    """A template patch making ``container`` exit with ``exit_code`` after ``run_seconds`` (needs ``sh``)."""
    containers = copy.deepcopy(workload["spec"]["template"]["spec"]["containers"])
    names = [c["name"] for c in containers]
    if container not in names:
        raise KeyError(f"container {container!r} is not in the pod template ({', '.join(names)})")
    for item in containers:
        if item["name"] == container:
            item["command"] = ["sh", "-c", f"sleep {run_seconds:g}; exit {exit_code}"]
            item.pop("args", None)
            item.pop("livenessProbe", None)
    return {"spec": {"template": {"spec": {"containers": containers}}}}
