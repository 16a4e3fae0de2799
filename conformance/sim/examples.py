"""A small example environment: a control plane, three workers, one workload of each kind, a claim, jobs.

Used by the project's own tests and handy for trying the simulated cluster from a script.
"""

from __future__ import annotations

from conformance.model.workloads import (
    ContainerSpec,
    Environment,
    HttpMetricsSpec,
    JobSpec,
    NodeSpec,
    ScrapeSpec,
    VendorMetricSpec,
    VolumeClaimSpec,
    WorkloadSpec,
)

EXAMPLE_NAMESPACE = "ml"


def example_environment() -> Environment:
    """``api`` (Deployment, 4 replicas on the ``pool=cpu`` workers, HTTP and vendor metrics), ``db``
    (StatefulSet, 2 replicas, mounts claim ``data``, exposes ``pg_up``), ``agent`` (DaemonSet), and the
    jobs ``backup`` (CronJob) and ``migrate`` (plain Job), all in namespace ``ml``."""
    ns = EXAMPLE_NAMESPACE
    return Environment(
        nodes=(
            NodeSpec("cp", role="control-plane"),
            NodeSpec("w1", labels={"pool": "cpu"}),
            NodeSpec("w2", labels={"pool": "cpu"}),
            NodeSpec("w3", labels={"pool": "gpu"}),
        ),
        namespaces=(ns,),
        workloads=(
            WorkloadSpec(
                "Deployment",
                "api",
                ns,
                (ContainerSpec("api", image="example/api:1.0"), ContainerSpec("sidecar")),
                replicas=4,
                scrape=ScrapeSpec("api", port=8080),
                http=HttpMetricsSpec(requests_per_second=20.0, latency_seconds=0.1),
                vendor_metrics=(
                    VendorMetricSpec("model_pushes_total", rate_per_second=2.0, labels={"namespace": "vendor"}),
                    VendorMetricSpec("model_errors_total", rate_per_second=0.0),
                    VendorMetricSpec("model_queue_depth", type="gauge", value=3.0),
                ),
                node_selector={"pool": "cpu"},
            ),
            WorkloadSpec(
                "StatefulSet",
                "db",
                ns,
                (ContainerSpec("postgres", image="postgres:16"),),
                replicas=2,
                scrape=ScrapeSpec("db", port=9187, extra_metrics=("pg_up",)),
                volume_claims=("data",),
            ),
            WorkloadSpec("DaemonSet", "agent", ns, (ContainerSpec("agent"),)),
        ),
        volume_claims=(VolumeClaimSpec("data", ns, capacity_bytes=10 * 2**30, used_ratio=0.3),),
        jobs=(JobSpec("backup", ns, cronjob="backup"), JobSpec("migrate", ns)),
    )
