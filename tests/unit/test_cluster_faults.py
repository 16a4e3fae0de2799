"""Faults on the simulated cluster: each changes the series it must, with Kubernetes' timings, and heals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conformance.model.scenario import Scenario, Target
from conformance.model.workloads import AutoscalerSpec, DisruptionBudgetSpec, QuotaSpec
from conformance.sim import SimulatedCluster, matching
from conformance.sim.backoff import BackoffEntry, crash_schedule, held_crash_schedule, restart_after
from conformance.sim.examples import example_environment
from conformance.sim.latency import latency_model
from conformance.sim.types import SeriesKey

NS = "ml"


def scenario(fault: str, params: dict[str, float | int | str] | None = None, **target: str) -> Scenario:
    return Scenario(id=f"t-{fault}", fault=fault, target=Target(**target), params=dict(params or {}))


def one(stored: dict[SeriesKey, float], name: str, **labels: str) -> float:
    found = matching(stored, name, **labels)
    assert len(found) == 1, f"expected one {name}{labels}, found {sorted(found)}"
    return next(iter(found.values()))


@pytest.fixture
def cluster() -> SimulatedCluster:
    sim = SimulatedCluster(example_environment())
    sim.advance_to(100.0)
    return sim


def test_backoff_schedule_is_the_kubelets() -> None:
    """pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff with client-go util/flowcontrol/backoff.go:
    the first exit finds no back-off entry and is restarted at once, then 10 s doubling to MaxContainerBackOff
    (300 s, pkg/kubelet/kubelet.go); hasExpired forgets an entry not moved for 2 x 300 s."""
    schedule = crash_schedule(0.0, 8)
    assert schedule.restarts == (0.0, 10.0, 30.0, 70.0, 150.0, 310.0, 610.0, 910.0)
    assert crash_schedule(0.0, 10).restarts[-3:] == (910.0, 1210.0, 1510.0)
    spread = crash_schedule(0.0, 3, over_s=900.0)
    assert spread.restarts == (300.0, 600.0, 900.0)
    # Restarts wanted every 5 s cannot beat the back-off: only 2 within 30 s (at 5 at once, then 15; 35 is late).
    assert crash_schedule(0.0, 6, over_s=30.0).restarts[:3] == (5.0, 15.0, 35.0)
    # Running fine for more than 10 minutes forgets the back-off: that exit is restarted at once again.
    reset = crash_schedule(0.0, 2, over_s=2000.0)
    assert reset.restarts[1] == reset.crashes[1] == 2000.0
    # ... but not after exactly 10 minutes (hasExpired is strictly greater).
    kept = crash_schedule(0.0, 1).last_entry()
    assert restart_after(kept, 600.0) == (610.0, BackoffEntry(20.0, 610.0))
    assert restart_after(kept, 600.5)[0] == 600.5


def test_a_held_crash_loop_restarts_as_the_back_off_allows() -> None:
    """The kubelet decides the restarts of a container that keeps exiting (kuberuntime doBackOff): none is
    asked for, so a held loop's restart count at any time is the back-off's."""
    held = held_crash_schedule(0.0, 900.0, run_s=0.0)
    assert held.restarts_by(900.0) == 7
    assert held.restarts[:4] == (0.0, 10.0, 30.0, 70.0)
    # A run of no length: restarted at once, exited at once, waiting 10 s.
    assert held.restarts_by(0.0) == 1 and held.waiting_at(5.0)
    assert held.last_entry() == BackoffEntry(300.0, 910.0)


def test_crash_loop_restarts_at_backoff_times_and_heals(cluster: SimulatedCluster) -> None:
    """The first exit is restarted at once (no CrashLoopBackOff yet), the second waits 10 s in CrashLoopBackOff."""
    handle = cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db", container="postgres"), 4)
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", **pod) == 1
    cluster.advance_to(105.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_waiting_reason", **pod, reason="CrashLoopBackOff") == 1
    assert one(stored, "kube_pod_container_status_ready", **pod) == 0
    assert one(stored, "kube_pod_status_ready", namespace=NS, pod="db-0", condition="false") == 1
    assert one(stored, "kube_pod_container_status_last_terminated_reason", **pod, reason="Error") == 1
    assert one(stored, "kube_pod_container_status_last_terminated_exitcode", **pod) == 1
    # The app's endpoint is down while its container is.
    assert one(stored, "up", job="db", pod="db-0") == 0
    expected = {109.9: 1, 110.0: 2, 129.9: 2, 130.0: 3, 170.0: 4, 250.0: 4, 1000.0: 4}
    for t, restarts in expected.items():
        cluster.advance_to(t)
        assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", **pod) == restarts, t
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_pod_container_status_waiting_reason", **pod)
    assert one(stored, "kube_pod_container_status_ready", **pod) == 1
    assert one(stored, "kube_pod_container_status_last_terminated_reason", **pod, reason="Error") == 1
    cluster.revert_fault(handle)
    cluster.revert_fault(handle)
    assert cluster.active_faults() == []


def test_crash_loop_revert_stops_further_crashes(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 10, over_s=0)
    cluster.advance_to(115.0)
    cluster.revert_fault(handle)
    cluster.advance_to(2000.0)
    # Restarted at 100 and 110, crashed again at once; the restart it was waiting for (at 130) still happens.
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", namespace=NS, pod="db-0") == 3
    assert not matching(cluster.stored_samples(), "kube_pod_container_status_waiting_reason", namespace=NS)
    with pytest.raises(TypeError, match="over_s"):
        cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 2, ramp_s=3)
    with pytest.raises(ValueError, match="whole number"):
        cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 2.5)


def test_a_second_crash_loop_goes_on_from_the_kubelets_back_off(cluster: SimulatedCluster) -> None:
    """The kubelet keeps one back-off entry per container (flowcontrol.Backoff keyed by pod and container):
    a crash loop that follows another within 10 minutes waits as long as the first left off, not at once."""
    first = cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 2)
    cluster.advance_to(120.0)
    cluster.revert_fault(first)
    cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 1)
    cluster.advance_to(139.9)
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", namespace=NS, pod="db-0") == 2
    cluster.advance_to(140.0)
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", namespace=NS, pod="db-0") == 3


def test_crash_loop_backoff_holds_the_waiting_reason_until_revert(cluster: SimulatedCluster) -> None:
    """KubePodCrashLooping (kube-prometheus) reads kube_pod_container_status_waiting_reason{reason=
    "CrashLoopBackOff"} over 15 minutes: a held loop shows it from the second exit on, restarting only as often
    as the kubelet's back-off allows, for as long as it is held (beyond the first hour the schedule is laid out)."""
    handle = cluster.apply_fault(scenario("crash-loop-backoff", namespace=NS, workload="db"), None)
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    for t in (100.5, 400.0, 1000.0, 100.0 + 5000.0):
        cluster.advance_to(t)
        stored = cluster.stored_samples()
        assert one(stored, "kube_pod_container_status_waiting_reason", **pod, reason="CrashLoopBackOff") == 1, t
    # at once, +10, +30, +70, +150, +310, +610, then every 300 s: 7 + 14 by +4910 s, 7 + 14 + 1 by +5210 s
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 21
    cluster.revert_fault(handle)
    cluster.advance_to(6000.0)
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_pod_container_status_waiting_reason", **pod)
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 22
    with pytest.raises(ValueError, match="takes no level"):
        cluster.apply_fault(scenario("crash-loop-backoff", namespace=NS, workload="db"), 3)


def test_unavailable_replicas_keep_desired_count(cluster: SimulatedCluster) -> None:
    dep = {"namespace": NS, "deployment": "api"}
    handle = cluster.apply_fault(scenario("unavailable-replicas", namespace=NS, workload="api"), 2)
    cluster.advance_to(130.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_spec_replicas", **dep) == 4
    assert one(stored, "kube_deployment_status_replicas_available", **dep) == 2
    assert one(stored, "kube_deployment_status_replicas_unavailable", **dep) == 2
    # maxUnavailable = floor(25% of 4) = 1: two unavailable breaks availability.
    assert one(stored, "kube_deployment_status_condition", **dep, condition="Available", status="false") == 1
    running = matching(stored, "kube_pod_status_phase", namespace=NS, phase="Running")
    assert sum(v for k, v in running.items() if dict(k)["pod"].startswith("api-")) == 4
    cluster.revert_fault(handle)
    cluster.advance_to(140.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_unavailable", **dep) == 0
    assert one(stored, "kube_deployment_status_condition", **dep, condition="Available", status="true") == 1
    ds = cluster.apply_fault(scenario("unavailable-replicas", namespace=NS, workload="agent"), 99)
    stored = cluster.stored_samples()
    assert one(stored, "kube_daemonset_status_number_unavailable", namespace=NS, daemonset="agent") == 3
    assert one(stored, "kube_daemonset_status_number_ready", namespace=NS, daemonset="agent") == 0
    assert ds.effective_level == 3


def test_stuck_rollout(cluster: SimulatedCluster) -> None:
    dep = {"namespace": NS, "deployment": "api"}
    handle = cluster.apply_fault(scenario("stuck-rollout", namespace=NS, workload="api"), None)
    cluster.advance_to(200.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_metadata_generation", **dep) == 2
    assert one(stored, "kube_deployment_spec_replicas", **dep) == 4
    assert one(stored, "kube_deployment_status_replicas_updated", **dep) == 2
    assert one(stored, "kube_deployment_status_replicas_unavailable", **dep) == 2
    assert matching(stored, "kube_pod_container_status_waiting_reason", namespace=NS, reason="ImagePullBackOff")
    assert one(stored, "kube_deployment_status_condition", **dep, condition="Progressing", status="true") == 1
    cluster.advance_to(100.0 + 600.0)
    stored = cluster.stored_samples()
    assert (
        one(
            stored,
            "kube_deployment_status_condition",
            **dep,
            condition="Progressing",
            status="false",
            reason="ProgressDeadlineExceeded",
        )
        == 1
    )
    cluster.revert_fault(handle)
    cluster.advance_to(720.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_updated", **dep) == 4
    assert one(stored, "kube_deployment_status_replicas_available", **dep) == 4
    sts = cluster.apply_fault(scenario("stuck-rollout", namespace=NS, workload="db"), None)
    stored = cluster.stored_samples()
    current = dict(next(iter(matching(stored, "kube_statefulset_status_current_revision", statefulset="db"))))
    update = dict(next(iter(matching(stored, "kube_statefulset_status_update_revision", statefulset="db"))))
    assert current["revision"] != update["revision"]
    cluster.revert_fault(sts)
    cluster.apply_fault(scenario("stuck-rollout", namespace=NS, workload="agent"), None)
    stored = cluster.stored_samples()
    assert one(stored, "kube_daemonset_status_updated_number_scheduled", namespace=NS, daemonset="agent") == 1


def test_fill_volume_is_linear_and_heals(cluster: SimulatedCluster) -> None:
    pvc = {"namespace": NS, "persistentvolumeclaim": "data"}
    handle = cluster.apply_fault(scenario("fill-volume", namespace=NS, volume_claim="data"), 0.05, fill_s=100)

    def ratio() -> float:
        stored = cluster.stored_samples()
        return one(stored, "kubelet_volume_stats_available_bytes", **pvc) / one(
            stored, "kubelet_volume_stats_capacity_bytes", **pvc
        )

    # 30 % used of an ext4 volume leaves 65 % available to a non-root writer (5 % is root's).
    cluster.advance_to(150.0)
    assert ratio() == pytest.approx((0.65 + 0.05) / 2, abs=1e-6)
    cluster.advance_to(200.0)
    assert ratio() == pytest.approx(0.05, abs=1e-6)
    cluster.revert_fault(handle)
    assert ratio() == pytest.approx(0.65, abs=1e-6)


def test_cordon_node(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("cordon-node", node="w1"), None)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_spec_unschedulable", node="w1") == 1
    assert (
        one(stored, "kube_node_spec_taint", node="w1", key="node.kubernetes.io/unschedulable", effect="NoSchedule") == 1
    )
    assert one(stored, "kube_daemonset_status_number_available", namespace=NS, daemonset="agent") == 3
    cluster.revert_fault(handle)
    assert one(cluster.stored_samples(), "kube_node_spec_unschedulable", node="w1") == 0


def test_node_not_ready_grace_eviction_and_revert(cluster: SimulatedCluster) -> None:
    """The node lifecycle controller: Ready=Unknown after the 40 s monitor grace, the NoExecute unreachable taint,
    and after DefaultTolerationSeconds (300 s) the taint eviction controller deletes the pods. The silent kubelet
    cannot confirm, so they stay with a deletionTimestamp (delete time + 30 s grace); the ReplicaSet counts only
    pods not being deleted and replaces them elsewhere; the StatefulSet controller does not create a pod of the
    same identity while the old one exists; DaemonSet pods tolerate the taint."""
    api_on_w1 = [p.name for p in cluster.pods if p.node == "w1" and p.workload and p.workload.name == "api"]
    agent_on_w1 = [p.name for p in cluster.pods if p.node == "w1" and p.workload and p.workload.name == "agent"]
    assert api_on_w1 and agent_on_w1
    handle = cluster.apply_fault(scenario("node-not-ready", node="w1"), None)
    cluster.advance_to(139.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="true") == 1
    assert one(stored, "up", job="kubelet", node="w1", metrics_path="/metrics/cadvisor") == 0
    assert cluster.scrape("kubelet-w1") is None
    cluster.advance_to(140.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="unknown") == 1
    cluster.advance_to(100.0 + 40.0 + 299.0)
    assert not matching(cluster.stored_samples(), "kube_pod_deletion_timestamp", namespace=NS)
    cluster.advance_to(100.0 + 40.0 + 300.0)
    assert {p.name for p in cluster.pods if p.deleting_since == 440.0} >= set(api_on_w1)
    cluster.advance_to(450.0)  # kube-state-metrics, if it ran on w1, is replaced too and must start first
    stored = cluster.stored_samples()
    for name in api_on_w1:
        deletion = one(stored, "kube_pod_deletion_timestamp", namespace=NS, pod=name)
        assert deletion == cluster.epoch + 440.0 + 30.0
    for name in agent_on_w1:
        assert not matching(stored, "kube_pod_deletion_timestamp", namespace=NS, pod=name)
    assert {p.name for p in cluster.pods} >= set(api_on_w1) | set(agent_on_w1)
    cluster.advance_to(460.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 4
    assert one(stored, "kube_daemonset_status_number_unavailable", namespace=NS, daemonset="agent") == 1
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="true") == 1
    assert one(stored, "up", job="kubelet", node="w1", metrics_path="/metrics") == 1
    # The kubelet is back and finishes the deletions.
    assert not {p.name for p in cluster.pods} & set(api_on_w1)
    assert not matching(stored, "kube_pod_deletion_timestamp", namespace=NS)
    down = cluster.apply_fault(scenario("node-not-ready", node="w2", params={"ready_status": "false"}), None)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w2", condition="Ready", status="false") == 1
    cluster.revert_fault(down)


def test_a_statefulset_pod_on_an_unreachable_node_is_not_replaced(cluster: SimulatedCluster) -> None:
    """StatefulSet pods have a stable identity: the controller recreates one only once the old pod object is gone,
    which on an unreachable node needs the kubelet's confirmation (or a forced delete)."""
    [db] = [p for p in cluster.pods if p.name == "db-0"]
    assert db.node is not None
    handle = cluster.apply_fault(scenario("node-not-ready", node=db.node), None)
    cluster.advance_to(100.0 + 40.0 + 300.0 + 60.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_deletion_timestamp", namespace=NS, pod="db-0") == cluster.epoch + 470.0
    assert sorted(p.name for p in cluster.pods if p.workload and p.workload.name == "db") == ["db-0", "db-1"]
    assert one(stored, "kube_statefulset_status_replicas", namespace=NS, statefulset="db") == 1
    cluster.revert_fault(handle)
    [fresh] = [p for p in cluster.pods if p.name == "db-0"]
    assert fresh is not db and fresh.deleting_since is None


def test_a_pod_no_node_fits_is_unschedulable_until_one_does(cluster: SimulatedCluster) -> None:
    """kube-scheduler sets PodScheduled=False (reason Unschedulable) on a pod no node fits, and kube-state-metrics
    (internal/store/pod.go) exposes kube_pod_status_unschedulable only while that condition is False. The
    scheduler retries when a node changes: uncordoned, the node takes the pod, which then starts."""
    cordons = [cluster.apply_fault(scenario("cordon-node", node=n), None) for n in ("w1", "w2")]
    cluster.apply_fault(scenario("kill-pods", namespace=NS, workload="api"), None)
    cluster.advance_to(200.0)
    stored = cluster.stored_samples()
    pending = [p for p in cluster.pods if p.workload and p.workload.name == "api"]
    assert len(pending) == 4 and all(p.node is None for p in pending)
    for pod in pending:
        assert one(stored, "kube_pod_status_unschedulable", namespace=NS, pod=pod.name) == 1
        assert one(stored, "kube_pod_status_scheduled", namespace=NS, pod=pod.name, condition="false") == 1
        assert one(stored, "kube_pod_status_phase", namespace=NS, pod=pod.name, phase="Pending") == 1
    cluster.revert_fault(cordons[0])
    assert all(p.node == "w1" for p in pending)
    cluster.advance_to(205.0)
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_pod_status_unschedulable", namespace=NS)
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 4
    assert one(stored, "kube_pod_start_time", namespace=NS, pod=pending[0].name) == cluster.epoch + 200.0
    cluster.revert_fault(cordons[1])


def test_memory_cpu_and_node_pressure(cluster: SimulatedCluster) -> None:
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    memory = cluster.apply_fault(scenario("memory-near-limit", namespace=NS, workload="db"), 0.95, ramp_s=100)
    cluster.advance_to(200.0)
    stored = cluster.stored_samples()
    assert one(stored, "container_memory_working_set_bytes", **pod) / (512 * 2**20) == pytest.approx(0.95, abs=1e-6)
    cluster.revert_fault(memory)
    cpu = cluster.apply_fault(scenario("cpu-near-limit", namespace=NS, workload="db"), 0.9)
    before = cluster.stored_samples()
    cluster.advance_to(500.0)
    after = cluster.stored_samples()

    def delta(name: str) -> float:
        return one(after, name, **pod) - one(before, name, **pod)

    assert delta("container_cpu_usage_seconds_total") == pytest.approx(0.9 * 300)
    assert delta("container_cpu_cfs_throttled_periods_total") / delta(
        "container_cpu_cfs_periods_total"
    ) == pytest.approx(0.64, abs=0.01)
    cluster.revert_fault(cpu)
    node = cluster.apply_fault(scenario("node-memory-pressure", node="w3"), 0.999)
    stored = cluster.stored_samples()
    instance = next(t.labels["instance"] for t in cluster.targets() if t.id == "node-exporter-w3")
    avail = one(stored, "node_memory_MemAvailable_bytes", instance=instance)
    assert 1 - avail / one(stored, "node_memory_MemTotal_bytes", instance=instance) == pytest.approx(0.999, abs=1e-9)
    assert one(stored, "kube_node_status_condition", node="w3", condition="MemoryPressure", status="true") == 1
    cluster.revert_fault(node)


def test_memory_past_the_limit_is_oom_killed_and_restarted_with_back_off(cluster: SimulatedCluster) -> None:
    """The kernel's OOM killer ends a container whose working set reaches its cgroup limit; the kubelet reports
    lastState.terminated reason OOMKilled, exit code 137 (kuberuntime: the runtime's OOM flag; 128 + SIGKILL),
    and restarts it like any other exit (doBackOff: at once, then 10 s doubling). kube-state-metrics exposes
    that as kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}."""
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    limit = 512 * 2**20
    handle = cluster.apply_fault(scenario("memory-near-limit", namespace=NS, workload="db"), 1.0, ramp_s=100)
    cluster.advance_to(150.0)
    stored = cluster.stored_samples()
    assert one(stored, "container_memory_working_set_bytes", **pod) / limit == pytest.approx(0.7, abs=1e-6)
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 0
    cluster.advance_to(200.0)  # the limit: killed, and restarted at once (the first exit)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 1
    assert one(stored, "kube_pod_container_status_last_terminated_reason", **pod, reason="OOMKilled") == 1
    assert one(stored, "kube_pod_container_status_last_terminated_exitcode", **pod) == 137
    # The new run climbs from the baseline again: 0.4 -> 1.0 at the same 0.6 per 100 s.
    cluster.advance_to(250.0)
    assert one(cluster.stored_samples(), "container_memory_working_set_bytes", **pod) / limit == pytest.approx(0.7)
    cluster.advance_to(305.0)  # killed again at 300, waiting its 10 s
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_waiting_reason", **pod, reason="CrashLoopBackOff") == 1
    assert not matching(stored, "container_memory_working_set_bytes", **pod)
    cluster.advance_to(310.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 2
    # cAdvisor counts an OOM kill on the cgroup of the killed container, which goes with it: the running
    # container's counter never shows it (google/cadvisor#3015, "container_oom_events_total always returns 0").
    assert one(stored, "container_oom_events_total", **pod) == 0
    cluster.revert_fault(handle)
    cluster.advance_to(2000.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 2
    assert one(stored, "container_memory_working_set_bytes", **pod) / limit == pytest.approx(0.4)
    assert one(stored, "kube_pod_container_status_last_terminated_reason", **pod, reason="OOMKilled") == 1


def test_a_slow_oom_loop_keeps_the_back_off_across_hours(cluster: SimulatedCluster) -> None:
    """Runs longer than the hour a held loop is laid out ahead go on across its extension. Each lasts 5000 s,
    more than the 2 x 300 s after which the kubelet forgets a back-off entry (flowcontrol hasExpired), so every
    kill is restarted at once, never CrashLoopBackOff."""
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    cluster.apply_fault(scenario("memory-near-limit", namespace=NS, workload="db"), 1.0, ramp_s=5000)
    cluster.advance_to(5100.0)
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", **pod) == 1
    cluster.advance_to(10100.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 2
    assert not matching(stored, "kube_pod_container_status_waiting_reason", **pod)


def test_memory_just_below_the_limit_holds_without_a_kill(cluster: SimulatedCluster) -> None:
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    cluster.apply_fault(scenario("memory-near-limit", namespace=NS, workload="db"), 0.999, ramp_s=10)
    cluster.advance_to(5000.0)
    stored = cluster.stored_samples()
    assert one(stored, "container_memory_working_set_bytes", **pod) / (512 * 2**20) == pytest.approx(0.999)
    assert one(stored, "kube_pod_container_status_restarts_total", **pod) == 0
    assert not matching(stored, "kube_pod_container_status_last_terminated_reason", **pod)


def test_volume_stats_are_statfs_of_an_ext4_volume(cluster: SimulatedCluster) -> None:
    """pkg/volume/util/fs (FsInfo): available = f_bavail x f_bsize, used = (f_blocks - f_bfree) x f_bsize. ext4's
    root reserve (mke2fs -m 5) is in f_bfree, not f_bavail: used + available < capacity. The fill-volume level
    stays available / capacity, the quotient alerts compute."""
    pvc = {"namespace": NS, "persistentvolumeclaim": "data"}
    cluster.apply_fault(scenario("fill-volume", namespace=NS, volume_claim="data"), 0.04)
    stored = cluster.stored_samples()
    capacity = one(stored, "kubelet_volume_stats_capacity_bytes", **pvc)
    available = one(stored, "kubelet_volume_stats_available_bytes", **pvc)
    used = one(stored, "kubelet_volume_stats_used_bytes", **pvc)
    assert available / capacity == pytest.approx(0.04, abs=1e-9)
    assert (capacity - used - available) / capacity == pytest.approx(0.05, abs=1e-9)
    full = cluster.apply_fault(scenario("fill-volume", namespace=NS, volume_claim="data"), 0.0)
    stored = cluster.stored_samples()
    assert one(stored, "kubelet_volume_stats_available_bytes", **pvc) == 0
    assert one(stored, "kubelet_volume_stats_used_bytes", **pvc) / capacity == pytest.approx(0.95, abs=1e-9)
    cluster.revert_fault(full)
    roomy = cluster.apply_fault(scenario("fill-volume", namespace=NS, volume_claim="data"), 1.0)
    assert roomy.effective_level == pytest.approx(0.95) and "reserves 5%" in roomy.notes[0]


def test_fail_job_and_revert(cluster: SimulatedCluster) -> None:
    """The failed run is a Job beside the declared one, named as the kind and cluster injector names it."""
    handle = cluster.apply_fault(scenario("fail-job", namespace=NS, job="migrate"), None)
    stored = cluster.stored_samples()
    failed = "migrate-failed-by-alert-conformance"
    assert one(stored, "kube_job_failed", job_name=failed, condition="true") == 1
    assert one(stored, "kube_job_status_failed", job_name=failed, reason="BackoffLimitExceeded") == 1
    assert one(stored, "kube_job_status_active", job_name=failed) == 0
    assert one(stored, "kube_job_complete", job_name="migrate", condition="true") == 1  # the declared Job stays
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_job_failed", job_name=failed)
    cron = cluster.apply_fault(scenario("fail-job", namespace=NS, job="backup"), None)
    assert len(matching(cluster.stored_samples(), "kube_job_owner", owner_name="backup")) == 2
    cluster.revert_fault(cron)
    assert not matching(cluster.stored_samples(), "kube_job_failed")


def test_target_down_keeps_pods(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("target-down", namespace=NS, workload="api"), None)
    stored = cluster.stored_samples()
    assert all(v == 0 for v in matching(stored, "up", job="api").values())
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 4
    cluster.revert_fault(handle)
    assert all(v == 1 for v in matching(cluster.stored_samples(), "up", job="api").values())


def test_error_rate_share(cluster: SimulatedCluster) -> None:
    cluster.apply_fault(scenario("error-rate", namespace=NS, workload="api"), 0.07)
    before = cluster.stored_samples()
    cluster.advance_to(400.0)
    after = cluster.stored_samples()
    errors = sum(matching(after, "http_requests_total", status="500").values()) - sum(
        matching(before, "http_requests_total", status="500").values()
    )
    all_requests = sum(matching(after, "http_requests_total").values()) - sum(
        matching(before, "http_requests_total").values()
    )
    assert errors / all_requests == pytest.approx(0.07, abs=0.001)


def _histogram_quantile(q: float, buckets: dict[float, float]) -> float:
    """Prometheus's bucketQuantile (linear interpolation inside the bucket)."""
    bounds = sorted(buckets)
    rank = q * buckets[float("inf")]
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        if buckets[bound] >= rank:
            if bound == float("inf"):
                return bounds[-2]
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (buckets[bound] - lower_count)
        lower_bound, lower_count = bound, buckets[bound]
    raise AssertionError("unreachable")


@pytest.mark.parametrize("level", [0.1, 0.3, 0.45, 0.55, 0.9, 1.7, 3.0])
def test_latency_level_is_what_histogram_quantile_reports(level: float) -> None:
    buckets = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
    model = latency_model(level, 0.95, buckets)
    shares = {b: model.share_at_most(b) for b in buckets} | {float("inf"): 1.0}
    assert _histogram_quantile(0.95, shares) == pytest.approx(model.effective, rel=1e-9)
    assert model.effective == pytest.approx(level) or model.effective < level


def test_latency_fault_reproduced_from_stored_buckets(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("latency", namespace=NS, workload="api"), 0.6)
    before = cluster.stored_samples()
    cluster.advance_to(400.0)
    after = cluster.stored_samples()
    increase: dict[float, float] = {}
    for key, value in matching(after, "http_request_duration_seconds_bucket", job="api").items():
        le = float(dict(key)["le"].replace("+Inf", "inf"))
        increase[le] = increase.get(le, 0.0) + value - before.get(key, 0.0)
    assert _histogram_quantile(0.95, increase) == pytest.approx(0.6, rel=0.01)
    assert handle.effective_level == pytest.approx(0.6)


def test_vendor_rates_network_flood_and_kill(cluster: SimulatedCluster) -> None:
    drop = cluster.apply_fault(
        scenario("metric-rate-drop", namespace=NS, workload="api", params={"metric": "model_pushes_total"}), 0.0
    )
    errors = cluster.apply_fault(
        scenario("error-counter", namespace=NS, workload="api", params={"metric": "model_errors_total"}), 0.5
    )
    flood = cluster.apply_fault(scenario("network-flood", namespace=NS, workload="api"), 2e9)
    before = cluster.stored_samples()
    cluster.advance_to(200.0)
    after = cluster.stored_samples()

    def growth(name: str) -> float:
        return sum(matching(after, name, namespace=NS).values()) - sum(matching(before, name, namespace=NS).values())

    assert growth("model_pushes_total") == 0
    assert growth("model_errors_total") == 4 * 0.5 * 100
    api_tx = [k for k in matching(after, "container_network_transmit_bytes_total") if dict(k)["pod"].startswith("api-")]
    sent = sum(after[k] - before[k] for k in api_tx)
    assert sent / 100 == pytest.approx(2e9)
    for handle in (drop, errors, flood):
        cluster.revert_fault(handle)
    with pytest.raises(ValueError, match="declared counters"):
        cluster.apply_fault(scenario("error-counter", namespace=NS, workload="api", params={"metric": "nope"}), 1)
    old = {p.name for p in cluster.pods if p.workload and p.workload.name == "api"}
    cluster.apply_fault(scenario("kill-pods", namespace=NS, workload="api"), None)
    new = {p.name for p in cluster.pods if p.workload and p.workload.name == "api"}
    assert len(new) == 4 and not old & new
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 0
    cluster.advance_to(cluster.now + 5.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 4


def test_bad_fault_input_is_a_clear_error(cluster: SimulatedCluster) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        cluster.apply_fault(scenario("melt-cpu", namespace=NS, workload="api"), None)
    with pytest.raises(ValueError, match="needs a level"):
        cluster.apply_fault(scenario("error-rate", namespace=NS, workload="api"), None)
    with pytest.raises(ValueError, match="takes no level"):
        cluster.apply_fault(scenario("cordon-node", node="w1"), 1)
    with pytest.raises(ValueError, match="no workload"):
        cluster.apply_fault(scenario("target-down", namespace=NS, workload="ghost"), None)
    with pytest.raises(TypeError, match="unknown timing"):
        cluster.apply_fault(scenario("cordon-node", node="w1"), None, fill_s=3)


def test_a_spread_fault_shares_its_level_so_no_object_carries_it_alone(cluster: SimulatedCluster) -> None:
    spread = Scenario(
        id="t-spread",
        fault="network-flood",
        target=Target(namespace=NS, workload="api"),
        spread=(Target(namespace=NS, workload="db"),),
    )
    handle = cluster.apply_fault(spread, 2e9)
    before = cluster.stored_samples()
    cluster.advance_to(200.0)
    after = cluster.stored_samples()
    sent = {
        dict(key)["pod"]: (after[key] - before[key]) / 100
        for key in matching(after, "container_network_transmit_bytes_total", namespace=NS)
        if dict(key)["pod"].startswith(("api-", "db-"))
    }
    assert sum(sent.values()) == pytest.approx(2e9)
    assert sum(rate for pod, rate in sent.items() if pod.startswith("db-")) == pytest.approx(1e9)
    assert max(sent.values()) == pytest.approx(0.5e9)  # db: half the level over its two pods
    assert handle.effective_level == pytest.approx(2e9)
    cluster.revert_fault(handle)
    cluster.advance_to(300.0)
    healed = cluster.stored_samples()
    assert all((healed[k] - after[k]) / 100 < 1e6 for k in matching(healed, "container_network_transmit_bytes_total"))
    with pytest.raises(ValueError, match="cannot be spread"):
        cluster.apply_fault(
            Scenario("t", "cpu-near-limit", Target(namespace=NS, workload="api"), spread=spread.spread), 0.9
        )


def test_cpu_throttling_throttles_the_level_s_share_of_cfs_periods(cluster: SimulatedCluster) -> None:
    """CPUThrottlingHigh's quantity: throttled periods over periods (cAdvisor's CFS counters), not CPU use."""
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    fault = cluster.apply_fault(scenario("cpu-throttling", namespace=NS, workload="db"), 0.3)
    before = cluster.stored_samples()
    cluster.advance_to(cluster.now + 300.0)
    after = cluster.stored_samples()

    def delta(name: str) -> float:
        return one(after, name, **pod) - one(before, name, **pod)

    throttled = delta("container_cpu_cfs_throttled_periods_total") / delta("container_cpu_cfs_periods_total")
    assert throttled == pytest.approx(0.3, abs=0.01)
    cluster.revert_fault(fault)


def _answers(sim: SimulatedCluster, at: float | None = None) -> dict[str, str | None]:
    return {target.id: sim.exposition(target.id, at) for target in sim.targets()}


def _values(text: str | None) -> dict[str, float]:
    lines = [line.rsplit(" ", 1) for line in (text or "").splitlines() if line and not line.startswith("#")]
    return {series: float(value) for series, value in lines}


def test_a_scrape_answered_late_gives_the_values_of_the_time_it_was_stamped() -> None:
    # The twin serves a scrape a moment after Prometheus stamped it: the answer must be the cluster as it was
    # then, counters and ramps included, not as it is when the server gets to it.
    stamped, served = 430.0, 437.5
    on_time, late = SimulatedCluster(example_environment()), SimulatedCluster(example_environment())
    for sim in (on_time, late):
        sim.advance_to(400.0)
        sim.apply_fault(scenario("cpu-near-limit", namespace=NS, workload="db"), 0.9)
    on_time.advance_to(stamped)
    late.advance_to(served)
    late_now = _answers(late)
    expected, answered = _answers(on_time), _answers(late, at=stamped)
    assert expected.keys() == answered.keys()
    for target, text in expected.items():
        want, got = _values(text), _values(answered[target])
        assert want.keys() == got.keys(), target
        assert all(got[key] == pytest.approx(value, rel=1e-9, abs=1e-9) for key, value in want.items()), target
    # The look back leaves the cluster as it was: its answer of now is the same as before it.
    assert _answers(late) == late_now != answered


def test_a_look_back_never_crosses_a_change_of_state(cluster: SimulatedCluster) -> None:
    before = _answers(cluster)
    cluster.apply_fault(scenario("target-down", namespace=NS, workload="api"), None)
    cluster.advance_to(cluster.now + 5.0)
    # Before the fault the target answered; asked for that moment now, the answer is the one after the fault.
    assert _answers(cluster, at=cluster.now - 10.0) == _answers(cluster)
    assert _answers(cluster) != before


def _with_policies() -> SimulatedCluster:
    """The example cluster with an autoscaler over api (4 replicas, 2..8), a quota on ml and budgets over api
    (maxUnavailable 25%) and db (minAvailable 50%)."""
    env = replace(
        example_environment(),
        autoscalers=(AutoscalerSpec("api", NS, "api", min_replicas=2, max_replicas=8),),
        quotas=(QuotaSpec("team", NS, {"pods": 50.0, "requests.cpu": 10.0, "limits.memory": 64 * 2**30}),),
        disruption_budgets=(
            DisruptionBudgetSpec("api", NS, "api", max_unavailable="25%"),
            DisruptionBudgetSpec("db", NS, "db", min_available="50%"),
        ),
    )
    sim = SimulatedCluster(env)
    sim.advance_to(100.0)
    return sim


def test_quota_used_is_what_the_namespaces_live_pods_request() -> None:
    sim = _with_policies()
    stored = sim.stored_samples()
    quota = {"namespace": NS, "resourcequota": "team"}
    live = [p for p in sim.pods if p.namespace == NS and p.phase(sim.now) not in ("Succeeded", "Failed")]
    finished = [p for p in sim.pods if p.namespace == NS and p.phase(sim.now) == "Succeeded"]
    assert finished, "the example's jobs have succeeded by now: the quota must not count their pods"
    assert one(stored, "kube_resourcequota", **quota, resource="pods", type="used") == len(live)
    requested = sum(c.spec.cpu_request_cores or 0.0 for p in live for c in p.containers)
    assert one(stored, "kube_resourcequota", **quota, resource="requests.cpu", type="used") == round(requested, 3)
    assert one(stored, "kube_resourcequota", **quota, resource="requests.cpu", type="hard") == 10.0
    # only the resources of the hard set are tracked
    assert {dict(k)["resource"] for k in matching(stored, "kube_resourcequota", **quota)} == {
        "pods",
        "requests.cpu",
        "limits.memory",
    }


@pytest.mark.parametrize(
    ("resource", "level"), [("requests.cpu", 1.0), ("limits.memory", 1.05), ("requests.cpu", 0.93)]
)
def test_quota_usage_lowers_hard_to_the_level_and_the_revert_restores_it(resource: str, level: float) -> None:
    sim = _with_policies()
    quota = {"namespace": NS, "resourcequota": "team", "resource": resource}
    before = one(sim.stored_samples(), "kube_resourcequota", **quota, type="hard")
    handle = sim.apply_fault(scenario("quota-usage", {"resource": resource}, namespace=NS, quota="team"), level)
    sim.advance_to(160.0)
    stored = sim.stored_samples()
    used = one(stored, "kube_resourcequota", **quota, type="used")
    hard = one(stored, "kube_resourcequota", **quota, type="hard")
    # hard is used/level rounded down to the resource's step (a millicore, a byte): never inside the level
    step = 0.001 if resource.endswith("cpu") else 1.0
    assert used / level - step < hard <= used / level
    if level == 1.0:
        assert used == hard
    sim.revert_fault(handle)
    assert one(sim.stored_samples(), "kube_resourcequota", **quota, type="hard") == before


def test_a_budget_follows_its_pods_readiness_as_the_disruption_controller_counts() -> None:
    sim = _with_policies()
    api = {"namespace": NS, "poddisruptionbudget": "api"}
    db = {"namespace": NS, "poddisruptionbudget": "db"}
    stored = sim.stored_samples()
    # maxUnavailable 25% of 4 replicas, rounded up: 1; desired = 4 - 1.
    assert one(stored, "kube_poddisruptionbudget_status_expected_pods", **api) == 4
    assert one(stored, "kube_poddisruptionbudget_status_desired_healthy", **api) == 3
    assert one(stored, "kube_poddisruptionbudget_status_current_healthy", **api) == 4
    assert one(stored, "kube_poddisruptionbudget_status_pod_disruptions_allowed", **api) == 1
    # minAvailable 50% of 2 replicas, rounded up: 1.
    assert one(stored, "kube_poddisruptionbudget_status_desired_healthy", **db) == 1
    sim.apply_fault(scenario("unavailable-replicas", namespace=NS, workload="api"), 2)
    sim.advance_to(130.0)
    stored = sim.stored_samples()
    assert one(stored, "kube_poddisruptionbudget_status_current_healthy", **api) == 2
    assert one(stored, "kube_poddisruptionbudget_status_pod_disruptions_allowed", **api) == 0


def test_pdb_unsatisfiable_raises_min_available_past_the_replicas_until_the_revert() -> None:
    sim = _with_policies()
    db = {"namespace": NS, "poddisruptionbudget": "db"}
    handle = sim.apply_fault(scenario("pdb-unsatisfiable", namespace=NS, workload="db"), None)
    stored = sim.stored_samples()
    # an integer minAvailable: the expected count is the selected pods, desired is minAvailable itself
    assert one(stored, "kube_poddisruptionbudget_status_desired_healthy", **db) == 3
    assert one(stored, "kube_poddisruptionbudget_status_current_healthy", **db) == 2
    assert one(stored, "kube_poddisruptionbudget_status_observed_generation", **db) == 2
    sim.revert_fault(handle)
    assert one(sim.stored_samples(), "kube_poddisruptionbudget_status_desired_healthy", **db) == 1


def test_hpa_maxed_holds_the_autoscaler_at_its_maximum_until_the_revert() -> None:
    sim = _with_policies()
    hpa = {"namespace": NS, "horizontalpodautoscaler": "api"}
    stored = sim.stored_samples()
    assert one(stored, "kube_horizontalpodautoscaler_spec_max_replicas", **hpa) == 8
    assert one(stored, "kube_horizontalpodautoscaler_status_current_replicas", **hpa) == 4
    assert one(stored, "kube_horizontalpodautoscaler_status_desired_replicas", **hpa) == 4
    handle = sim.apply_fault(scenario("hpa-maxed", namespace=NS, workload="api"), None)
    stored = sim.stored_samples()
    assert one(stored, "kube_horizontalpodautoscaler_spec_max_replicas", **hpa) == 4
    assert one(stored, "kube_horizontalpodautoscaler_spec_min_replicas", **hpa) == 2
    assert one(stored, "kube_horizontalpodautoscaler_status_current_replicas", **hpa) == 4
    sim.revert_fault(handle)
    assert one(sim.stored_samples(), "kube_horizontalpodautoscaler_spec_max_replicas", **hpa) == 8


def test_policy_faults_name_what_is_missing() -> None:
    sim = _with_policies()
    with pytest.raises(ValueError, match="no autoscaler scales ml/db"):
        sim.apply_fault(scenario("hpa-maxed", namespace=NS, workload="db"), None)
    with pytest.raises(ValueError, match="no disruption budget selects agent"):
        sim.apply_fault(scenario("pdb-unsatisfiable", namespace=NS, workload="agent"), None)
    with pytest.raises(ValueError, match=r"sets no hard limit on requests\.memory"):
        sim.apply_fault(scenario("quota-usage", {"resource": "requests.memory"}, namespace=NS, quota="team"), 0.95)


def test_a_pod_left_terminating_on_a_lost_node_stops_counting_against_the_quota_after_its_grace() -> None:
    """QuotaV1Pod: not charged once its deletionTimestamp plus the grace period is past (the delete plus twice the
    pod's 30 s grace); meanwhile the ReplicaSet's replacement is charged as well."""
    sim = _with_policies()
    quota = {"namespace": NS, "resourcequota": "team", "resource": "pods", "type": "used"}
    api_pod = next(p for p in sim.pods if p.namespace == NS and p.name.startswith("api-"))
    before = one(sim.stored_samples(), "kube_resourcequota", **quota)
    sim.apply_fault(scenario("node-not-ready", node=str(api_pod.node)), None)
    sim.advance_to(100.0 + 40.0 + 300.0 + 1.0)  # the node's grace and the eviction toleration: marked for deletion
    assert api_pod.deleting_since is not None
    lost = [p for p in sim.pods if p.node == api_pod.node and p.namespace == NS and p.deleting_since is not None]
    assert one(sim.stored_samples(), "kube_resourcequota", **quota) >= before + 1  # replacements charged too
    sim.advance_to(api_pod.deleting_since + 60.0)
    charged = one(sim.stored_samples(), "kube_resourcequota", **quota)
    sim.advance_to(api_pod.deleting_since + 60.5)
    assert one(sim.stored_samples(), "kube_resourcequota", **quota) == charged - len(lost)


def _node_exporter(cluster: SimulatedCluster, node: str) -> dict[str, str]:
    return {"instance": f"{cluster.nodes[node].ip}:9100"}


def test_fill_node_filesystem_is_statfs_of_ext4_as_node_exporter_reads_it(cluster: SimulatedCluster) -> None:
    """collector/filesystem_linux.go (node-exporter): size = f_blocks, free = f_bfree, avail = f_bavail (times
    f_bsize). ext4's root reserve (mke2fs -m 5) is in free, not in avail: the level is avail / size, the quotient
    NodeFilesystemAlmostOutOfSpace computes; a linear fill (fill_s) gives predict_linear a trend; revert heals."""
    root = {**_node_exporter(cluster, "w1"), "mountpoint": "/", "fstype": "ext4"}
    handle = cluster.apply_fault(scenario("fill-node-filesystem", node="w1"), 0.04, fill_s=100)

    def shares() -> tuple[float, float]:
        stored = cluster.stored_samples()
        size = one(stored, "node_filesystem_size_bytes", **root)
        return one(stored, "node_filesystem_avail_bytes", **root) / size, one(
            stored, "node_filesystem_free_bytes", **root
        ) / size

    # Healthy: 30 % of the blocks in use leaves 70 % free and 65 % available to non-root writers.
    assert shares() == pytest.approx((0.65, 0.70), abs=1e-6)
    cluster.advance_to(150.0)
    assert shares()[0] == pytest.approx((0.65 + 0.04) / 2, abs=1e-6)
    cluster.advance_to(200.0)
    assert shares() == pytest.approx((0.04, 0.09), abs=1e-6)
    other = {**_node_exporter(cluster, "w2"), "mountpoint": "/"}
    stored = cluster.stored_samples()
    assert one(stored, "node_filesystem_avail_bytes", **other) / one(
        stored, "node_filesystem_size_bytes", **other
    ) == pytest.approx(0.65, abs=1e-6)
    cluster.revert_fault(handle)
    assert shares() == pytest.approx((0.65, 0.70), abs=1e-6)
    full = cluster.apply_fault(scenario("fill-node-filesystem", node="w1"), 1.0)
    assert full.effective_level == pytest.approx(0.95) and "reserves 5%" in full.notes[0]


def test_clock_drift_holds_the_offset_node_exporter_reads(cluster: SimulatedCluster) -> None:
    """collector/timex.go: offset_seconds is adjtimex(2)'s timex.offset in seconds; held at the level, its deriv
    is 0 (NodeClockSkewDetected's `deriv >= 0` holds); a synchronised clock keeps sync_status 1."""
    labels = _node_exporter(cluster, "w1")
    handle = cluster.apply_fault(scenario("clock-drift", node="w1"), 0.06)
    cluster.advance_to(400.0)
    stored = cluster.stored_samples()
    assert one(stored, "node_timex_offset_seconds", **labels) == pytest.approx(0.06)
    assert one(stored, "node_timex_sync_status", **labels) == 1
    assert one(stored, "node_timex_maxerror_seconds", **labels) == pytest.approx(0.0105)
    cluster.revert_fault(handle)
    assert one(cluster.stored_samples(), "node_timex_offset_seconds", **labels) < 0.001
    with pytest.raises(ValueError, match=r"at most 0\.5"):
        cluster.apply_fault(scenario("clock-drift", node="w1"), 0.6)  # the kernel's MAXPHASE clamps an offset


def test_an_unsynchronised_clock_grows_its_maxerror_as_the_kernel_does(cluster: SimulatedCluster) -> None:
    """kernel/time/ntp.c second_overflow(): with no daemon resetting it, time_maxerror grows MAXFREQ / 1000 =
    500 us every second until NTP_PHASE_LIMIT (16 s); adjtimex(2) returns TIME_ERROR with STA_UNSYNC set, which
    collector/timex.go reports as sync_status 0. From the ~10 ms a daemon leaves, 16 s is ~31979 s away: that is
    how long NodeClockNotSynchronising (maxerror >= 16) waits before its `for` starts."""
    labels = _node_exporter(cluster, "w1")
    handle = cluster.apply_fault(scenario("clock-drift", {"synchronised": "false"}, node="w1"), None)
    cluster.advance_to(100.0 + 1000.0)
    stored = cluster.stored_samples()
    assert one(stored, "node_timex_sync_status", **labels) == 0
    assert one(stored, "node_timex_maxerror_seconds", **labels) == pytest.approx(0.0105 + 0.5)
    assert one(stored, "node_timex_offset_seconds", **labels) < 0.001  # no level: the offset is unchanged
    cluster.advance_to(100.0 + 31_978.0)
    assert one(cluster.stored_samples(), "node_timex_maxerror_seconds", **labels) < 16.0
    cluster.advance_to(100.0 + 31_980.0)
    assert one(cluster.stored_samples(), "node_timex_maxerror_seconds", **labels) == 16.0
    cluster.advance_to(100.0 + 40_000.0)
    assert one(cluster.stored_samples(), "node_timex_maxerror_seconds", **labels) == 16.0
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert one(stored, "node_timex_sync_status", **labels) == 1
    assert one(stored, "node_timex_maxerror_seconds", **labels) == pytest.approx(0.0105)


def test_clock_drift_delay_counts_only_for_an_unsynchronised_clock() -> None:
    """The maximum-error climb delays NodeClockNotSynchronising's state, not a skewed but synchronised clock."""
    from conformance.sim.faults import intrinsic_delay_s

    unsynced = scenario("clock-drift", {"synchronised": "false"}, node="w1")
    assert intrinsic_delay_s("clock-drift", unsynced) == pytest.approx((16 - 0.0105) / 0.0005)
    assert intrinsic_delay_s("clock-drift", scenario("clock-drift", node="w1")) == 0.0
    assert intrinsic_delay_s("clock-drift") == 0.0
