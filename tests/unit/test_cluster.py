"""The simulated cluster when healthy: families and labels, storage semantics, exposition, determinism."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from conformance.model.workloads import ContainerSpec, Environment, JobSpec, NodeSpec, WorkloadSpec
from conformance.sim import SimulatedCluster, matching, merge_target_labels
from conformance.sim.examples import example_environment
from conformance.sim.types import SeriesKey

NS = "ml"


def one(stored: dict[SeriesKey, float], name: str, **labels: str) -> float:
    found = matching(stored, name, **labels)
    assert len(found) == 1, f"expected one {name}{labels}, found {sorted(found)}"
    return next(iter(found.values()))


@pytest.fixture
def healthy() -> SimulatedCluster:
    cluster = SimulatedCluster(example_environment())
    cluster.advance_to(300.0)
    return cluster


def test_targets_cover_every_exporter(healthy: SimulatedCluster) -> None:
    targets = {t.id: t for t in healthy.targets()}
    assert targets["kube-state-metrics"].honor_labels
    assert targets["kube-state-metrics"].labels["namespace"] == "monitoring"
    for node in ("cp", "w1", "w2", "w3"):
        assert targets[f"kubelet-{node}"].labels["metrics_path"] == "/metrics"
        assert targets[f"cadvisor-{node}"].labels["metrics_path"] == "/metrics/cadvisor"
        assert targets[f"cadvisor-{node}"].honor_labels and targets[f"kubelet-{node}"].labels["node"] == node
        assert not targets[f"node-exporter-{node}"].honor_labels
    app = [t for t in targets.values() if t.job == "api"]
    assert len(app) == 4 and all(not t.honor_labels for t in app)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", t) for t in targets)
    assert set(app[0].labels) == {"job", "instance", "namespace", "pod", "service", "endpoint", "container"}


def test_node_families(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="true") == 1
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="unknown") == 0
    assert one(stored, "kube_node_status_condition", node="w1", condition="MemoryPressure", status="false") == 1
    assert one(stored, "kube_node_spec_unschedulable", node="w1") == 0
    assert one(stored, "kube_node_status_capacity", node="w1", resource="memory", unit="byte") == 32 * 2**30
    assert one(stored, "kube_node_status_allocatable", node="w1", resource="cpu", unit="core") == 8
    # kube-prometheus-stack keeps the KSM pod's own target labels on node series (honorLabels).
    info = matching(stored, "kube_node_info", node="w1")
    labels = dict(next(iter(info)))
    assert labels["namespace"] == "monitoring" and labels["pod"].startswith("kube-prometheus-stack-kube-state-metrics-")
    assert labels["container"] == "kube-state-metrics" and labels["job"] == "kube-state-metrics"
    assert matching(stored, "kube_node_spec_taint", node="cp", key="node-role.kubernetes.io/control-plane")
    mem_total = one(stored, "node_memory_MemTotal_bytes", instance="172.18.0.3:9100")
    assert one(stored, "node_memory_MemAvailable_bytes", instance="172.18.0.3:9100") / mem_total == pytest.approx(0.6)
    assert len(matching(stored, "node_cpu_seconds_total", instance="172.18.0.3:9100", mode="idle")) == 8
    assert matching(stored, "node_filesystem_avail_bytes", mountpoint="/", fstype="ext4")
    assert matching(stored, "node_network_transmit_bytes_total", device="eth0")
    for name in ("node_load1", "node_load5", "node_load15", "node_memory_Cached_bytes", "node_memory_Buffers_bytes"):
        assert len(matching(stored, name)) == 4


def test_pods_are_placed_and_named_like_their_controllers(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    api = matching(stored, "kube_pod_info", namespace=NS, created_by_kind="ReplicaSet")
    names = [dict(k)["pod"] for k in api]
    assert len(names) == 4 and all(re.fullmatch(r"api-[a-z0-9]{10}-[a-z0-9]{5}", n) for n in names)
    nodes = sorted(dict(k)["node"] for k in api)
    assert nodes == ["w1", "w1", "w2", "w2"]  # spread, only on pool=cpu nodes
    db = sorted(dict(k)["pod"] for k in matching(stored, "kube_pod_info", namespace=NS, created_by_kind="StatefulSet"))
    assert db == ["db-0", "db-1"]
    agents = matching(stored, "kube_pod_info", namespace=NS, created_by_kind="DaemonSet")
    assert sorted(dict(k)["node"] for k in agents) == ["w1", "w2", "w3"]  # not on the tainted control plane
    assert all(re.fullmatch(r"agent-[a-z0-9]{5}", dict(k)["pod"]) for k in agents)
    ips = [dict(k)["pod_ip"] for k in api]
    assert len(set(ips)) == 4


def test_pod_and_container_families(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    pod = "db-0"
    phases = matching(stored, "kube_pod_status_phase", namespace=NS, pod=pod)
    assert {dict(k)["phase"]: v for k, v in phases.items()} == {
        "Pending": 0,
        "Running": 1,
        "Succeeded": 0,
        "Failed": 0,
        "Unknown": 0,
    }
    assert one(stored, "kube_pod_status_ready", namespace=NS, pod=pod, condition="true") == 1
    assert one(stored, "kube_pod_container_status_ready", namespace=NS, pod=pod, container="postgres") == 1
    assert one(stored, "kube_pod_container_status_running", namespace=NS, pod=pod, container="postgres") == 1
    assert one(stored, "kube_pod_container_status_restarts_total", namespace=NS, pod=pod) == 0
    assert not matching(stored, "kube_pod_container_status_waiting_reason", namespace=NS)
    assert one(stored, "kube_pod_owner", namespace=NS, pod=pod, owner_kind="StatefulSet", owner_name="db") == 1
    limits = matching(stored, "kube_pod_container_resource_limits", namespace=NS, pod=pod)
    assert {(dict(k)["resource"], dict(k)["unit"]): v for k, v in limits.items()} == {
        ("cpu", "core"): 1.0,
        ("memory", "byte"): 512 * 2**20,
    }
    assert all(dict(k)["node"] and dict(k)["uid"] for k in limits)
    assert matching(stored, "kube_pod_container_info", namespace=NS, pod=pod, container="postgres", image="postgres:16")
    assert one(stored, "kube_namespace_status_phase", namespace=NS, phase="Active") == 1


def test_controller_families(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    dep = {"namespace": NS, "deployment": "api"}
    assert one(stored, "kube_deployment_spec_replicas", **dep) == 4
    assert one(stored, "kube_deployment_status_replicas_available", **dep) == 4
    assert one(stored, "kube_deployment_status_replicas_unavailable", **dep) == 0
    assert one(stored, "kube_deployment_status_replicas_updated", **dep) == 4
    assert one(stored, "kube_deployment_metadata_generation", **dep) == one(
        stored, "kube_deployment_status_observed_generation", **dep
    )
    assert one(stored, "kube_deployment_status_condition", **dep, condition="Available", status="true") == 1
    assert one(stored, "kube_deployment_status_condition", **dep, condition="Progressing", status="true") == 1
    assert matching(stored, "kube_replicaset_owner", namespace=NS, owner_kind="Deployment", owner_name="api")
    sts = {"namespace": NS, "statefulset": "db"}
    assert one(stored, "kube_statefulset_replicas", **sts) == 2
    assert one(stored, "kube_statefulset_status_replicas_ready", **sts) == 2
    current = dict(next(iter(matching(stored, "kube_statefulset_status_current_revision", **sts))))["revision"]
    update = dict(next(iter(matching(stored, "kube_statefulset_status_update_revision", **sts))))["revision"]
    assert current == update
    ds = {"namespace": NS, "daemonset": "agent"}
    assert one(stored, "kube_daemonset_status_desired_number_scheduled", **ds) == 3
    assert one(stored, "kube_daemonset_status_number_unavailable", **ds) == 0
    assert one(stored, "kube_daemonset_status_updated_number_scheduled", **ds) == 3
    # node-exporter runs everywhere, the control plane included.
    ne = {"namespace": "monitoring", "daemonset": "kube-prometheus-stack-prometheus-node-exporter"}
    assert one(stored, "kube_daemonset_status_number_available", **ne) == 4


def test_jobs_and_claims(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    assert one(stored, "kube_job_status_succeeded", namespace=NS, job_name="migrate") == 1
    assert one(stored, "kube_job_status_failed", namespace=NS, job_name="migrate") == 0
    assert one(stored, "kube_job_complete", namespace=NS, job_name="migrate", condition="true") == 1
    assert not matching(stored, "kube_job_failed", namespace=NS)
    cron = matching(stored, "kube_job_owner", namespace=NS, owner_kind="CronJob", owner_name="backup")
    assert len(cron) == 1 and re.fullmatch(r"backup-\d+", dict(next(iter(cron)))["job_name"])
    assert matching(stored, "kube_cronjob_status_last_successful_time", namespace=NS, cronjob="backup")
    pvc = {"namespace": NS, "persistentvolumeclaim": "data"}
    assert one(stored, "kube_persistentvolumeclaim_status_phase", **pvc, phase="Bound") == 1
    assert one(stored, "kube_persistentvolumeclaim_resource_requests_storage_bytes", **pvc) == 10 * 2**30
    assert matching(stored, "kube_persistentvolumeclaim_info", **pvc, storageclass="standard")
    # Volume stats come from the kubelet of the node running the mounting pod (db-0), and only from it.
    stats = matching(stored, "kubelet_volume_stats_available_bytes", **pvc)
    assert len(stats) == 1
    node_of_db0 = dict(next(iter(matching(stored, "kube_pod_info", namespace=NS, pod="db-0"))))["node"]
    labels = dict(next(iter(stats)))
    assert labels["node"] == node_of_db0 and labels["job"] == "kubelet" and labels["metrics_path"] == "/metrics"
    # 30 % used: a non-root writer still has 65 % (ext4 keeps 5 % for root).
    assert next(iter(stats.values())) / one(stored, "kubelet_volume_stats_capacity_bytes", **pvc) == pytest.approx(0.65)
    assert matching(stored, "kubelet_volume_stats_inodes_free", **pvc)


def test_cadvisor_series(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    pod = "db-0"
    cpu = matching(stored, "container_cpu_usage_seconds_total", namespace=NS, pod=pod)
    by_container = {(dict(k).get("container", ""), dict(k).get("image", "")): v for k, v in cpu.items()}
    # Pod cgroup, pause container and the application container; cpu="total" as the kubelet's cAdvisor has it.
    assert set(by_container) == {("", ""), ("", "registry.k8s.io/pause:3.9"), ("postgres", "postgres:16")}
    assert all(dict(k)["cpu"] == "total" and dict(k)["metrics_path"] == "/metrics/cadvisor" for k in cpu)
    # 300 s at 20% of a 1-core limit.
    assert by_container[("postgres", "postgres:16")] == pytest.approx(60.0)
    ws = one(stored, "container_memory_working_set_bytes", namespace=NS, pod=pod, container="postgres")
    assert ws == pytest.approx(0.4 * 512 * 2**20, abs=1)
    for name in ("container_memory_usage_bytes", "container_memory_rss", "container_cpu_cfs_periods_total"):
        assert matching(stored, name, namespace=NS, pod=pod, container="postgres")
    net = matching(stored, "container_network_transmit_bytes_total", namespace=NS, pod=pod)
    assert len(net) == 1 and dict(next(iter(net)))["interface"] == "eth0"
    assert matching(stored, "container_network_receive_packets_total", namespace=NS, pod=pod)
    # container_spec_* is exposed by cAdvisor but dropped by kube-prometheus-stack's ServiceMonitor.
    assert not matching(stored, "container_spec_memory_limit_bytes")
    node = dict(next(iter(net)))["node"]
    assert "container_spec_memory_limit_bytes{" in (healthy.exposition(f"cadvisor-{node}") or "")
    keep_all = SimulatedCluster(example_environment(), kube_prometheus_stack_drops=False)
    assert matching(keep_all.stored_samples(), "container_spec_memory_limit_bytes", container="postgres")


def test_app_series(healthy: SimulatedCluster) -> None:
    stored = healthy.stored_samples()
    requests = matching(stored, "http_requests_total", job="api", status="200")
    assert len(requests) == 4 and all(v == 20 * 300 for v in requests.values())
    assert all(v == 0 for v in matching(stored, "http_requests_total", job="api", status="500").values())
    buckets = matching(stored, "http_request_duration_seconds_bucket", job="api")
    assert {dict(k)["le"] for k in buckets} >= {"0.05", "0.1", "1", "+Inf"}
    # The vendor's own namespace label clashes with the target's: it becomes exported_namespace.
    pushes = matching(stored, "model_pushes_total", job="api", namespace=NS, exported_namespace="vendor")
    assert len(pushes) == 4 and all(v == 600 for v in pushes.values())
    assert all(v == 3 for v in matching(stored, "model_queue_depth", job="api").values())
    assert all(v == 1 for v in matching(stored, "pg_up", job="db").values()) and len(matching(stored, "pg_up")) == 2
    ups = matching(stored, "up")
    assert len(ups) == len(healthy.targets()) and all(v == 1 for v in ups.values())


def test_merge_target_labels_follows_honor_labels() -> None:
    target = {"job": "kubelet", "namespace": "kube-system", "instance": "a:1"}
    sample = {"namespace": "ml", "pod": "p", "container": ""}
    assert merge_target_labels(sample, target, honor=True) == {
        "job": "kubelet",
        "namespace": "ml",
        "instance": "a:1",
        "pod": "p",
    }
    merged = merge_target_labels({"namespace": "ml", "job": "x", "exported_job": "y"}, target, honor=False)
    assert merged["namespace"] == "kube-system" and merged["exported_namespace"] == "ml"
    assert merged["job"] == "kubelet" and merged["exported_job"] == "y" and merged["exported_exported_job"] == "x"
    # An empty sample label does not clash and does not survive.
    assert merge_target_labels({"namespace": ""}, target, honor=False)["namespace"] == "kube-system"
    assert "pod" not in merge_target_labels({"pod": ""}, target, honor=True)


def test_same_seed_same_cluster_other_seed_other_names() -> None:
    first, second, other = (SimulatedCluster(example_environment(), seed=s) for s in (7, 7, 8))
    for cluster in (first, second, other):
        cluster.advance_to(120.0)
    assert first.stored_samples() == second.stored_samples()
    assert {t.id for t in first.targets()} != {t.id for t in other.targets()}


def test_counters_are_monotonic_and_discrete_ones_whole() -> None:
    cluster = SimulatedCluster(example_environment())
    previous: dict[SeriesKey, float] = {}
    for step in range(1, 40):
        cluster.advance_to(step * 15.0)
        stored = cluster.stored_samples()
        for key, value in stored.items():
            name = dict(key)["__name__"]
            if name.endswith(("_total", "_bucket", "_count", "_sum")) and key in previous:
                assert value >= previous[key], key
            if name in ("http_requests_total", "kube_pod_container_status_restarts_total", "model_pushes_total"):
                assert value == int(value), key
        previous = stored
    with pytest.raises(ValueError, match="forward"):
        cluster.advance_to(10.0)


_SAMPLE_LINE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? '
    r"(-?[0-9.]+(e[+-]?[0-9]+)?|\+Inf|-Inf|NaN)$"
)


def test_exposition_is_valid_text_format(healthy: SimulatedCluster) -> None:
    for target in healthy.targets():
        text = healthy.exposition(target.id)
        assert text is not None and text.endswith("\n")
        families: list[str] = []
        typed: set[str] = set()
        for line in text.splitlines():
            if line.startswith("# HELP "):
                families.append(line.split(" ")[2])
            elif line.startswith("# TYPE "):
                _, _, name, kind = line.split(" ")
                assert kind in ("counter", "gauge", "histogram", "summary", "untyped") and name == families[-1]
                typed.add(name)
            else:
                assert _SAMPLE_LINE.match(line), line
                name = line.split("{")[0].split(" ")[0]
                family = families[-1]
                assert name == family or name in (f"{family}_bucket", f"{family}_sum", f"{family}_count"), line
        assert len(families) == len(set(families)), "a family appears twice"
        assert typed == set(families)


def test_bad_environment_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no node"):
        SimulatedCluster(Environment(nodes=(), namespaces=()))
    twice = WorkloadSpec("Deployment", "a", "x", (ContainerSpec("c"),))
    with pytest.raises(ValueError, match="declared twice"):
        SimulatedCluster(Environment(nodes=(NodeSpec("n"),), namespaces=("x",), workloads=(twice, twice)))


def test_single_control_plane_node_runs_workloads() -> None:
    env = Environment(
        nodes=(NodeSpec("kind-control-plane", role="control-plane"),),
        namespaces=("x",),
        workloads=(WorkloadSpec("Deployment", "a", "x", (ContainerSpec("c"),)),),
    )
    stored = SimulatedCluster(env).stored_samples()
    assert one(stored, "kube_pod_info", namespace="x", node="kind-control-plane", created_by_kind="ReplicaSet") == 1


def test_kube_state_metrics_is_kept_off_the_nodes_the_profile_s_faults_take_down() -> None:
    """As on kind, where the monitoring stack has a worker of its own: a node fault on the node that happened to
    host kube-state-metrics would silence every kube_* series until the pod is rescheduled, 5 minutes late."""
    env = Environment(nodes=(NodeSpec("worker-1"), NodeSpec("worker-2")), namespaces=("monitoring",))
    ksm_node = {p.node for p in SimulatedCluster(env).pods if p.workload and "kube-state-metrics" in p.name}
    assert ksm_node == {"worker-1"}  # the scheduler's first pick, unconstrained
    spared = SimulatedCluster(replace(env, fault_nodes=frozenset({"worker-1"})))
    assert {p.node for p in spared.pods if "kube-state-metrics" in p.name} == {"worker-2"}
    # Where no other node can run it, it still runs.
    alone = replace(env, nodes=(NodeSpec("worker-1"),), fault_nodes=frozenset({"worker-1"}))
    assert {p.node for p in SimulatedCluster(alone).pods if "kube-state-metrics" in p.name} == {"worker-1"}


def test_a_job_is_active_until_its_run_ends() -> None:
    """kube-state-metrics internal/store/job.go: kube_job_status_active is status.active, start_time is
    status.startTime, and kube_job_complete/kube_job_failed exist only once the Job has that condition."""
    base = example_environment()
    long_job = JobSpec("train", NS, run_seconds=7200.0)
    cluster = SimulatedCluster(replace(base, jobs=(*base.jobs, long_job)))
    cluster.advance_to(300.0)
    stored = cluster.stored_samples()
    job = {"namespace": NS, "job_name": "train"}
    assert one(stored, "kube_job_status_active", **job) == 1
    assert one(stored, "kube_job_status_succeeded", **job) == 0
    assert one(stored, "kube_job_status_start_time", **job) == cluster.epoch - 3600.0
    assert not matching(stored, "kube_job_complete", **job) and not matching(
        stored, "kube_job_status_completion_time", **job
    )
    [pod] = [p for p in cluster.pods if p.job is not None and p.job.name == "train"]
    assert one(stored, "kube_pod_status_phase", namespace=NS, pod=pod.name, phase="Running") == 1
    assert one(stored, "kube_pod_container_status_running", namespace=NS, pod=pod.name) == 1
    # It started an hour before virtual 0 and runs two: it completes at +3600 s.
    assert cluster.next_event_at() is not None
    cluster.advance_to(3600.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_job_status_active", **job) == 0
    assert one(stored, "kube_job_complete", **job, condition="true") == 1
    assert one(stored, "kube_job_status_completion_time", **job) == cluster.epoch + 3600.0
    assert one(stored, "kube_pod_status_phase", namespace=NS, pod=pod.name, phase="Succeeded") == 1


def test_node_roles_are_the_nodes_role_labels() -> None:
    """kube-state-metrics internal/store/node.go: one kube_node_role series per node-role.kubernetes.io/<role>
    label. kind labels its control plane only; a worker has a role where the label was put on it."""
    base = example_environment()
    labelled = tuple(
        replace(n, labels={**n.labels, "node-role.kubernetes.io/worker": ""}) if n.name == "w1" else n
        for n in base.nodes
    )
    cluster = SimulatedCluster(replace(base, nodes=labelled))
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_role", node="cp", role="control-plane") == 1
    assert one(stored, "kube_node_role", node="w1", role="worker") == 1
    assert not matching(stored, "kube_node_role", node="w2")
