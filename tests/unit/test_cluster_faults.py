"""Faults on the simulated cluster: each changes the series it must, with Kubernetes' timings, and heals."""

from __future__ import annotations

import pytest

from conformance.model.scenario import Scenario, Target
from conformance.sim import SimulatedCluster, matching
from conformance.sim.backoff import crash_schedule
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
    schedule = crash_schedule(0.0, 8)
    assert schedule.restarts == (10.0, 30.0, 70.0, 150.0, 310.0, 610.0, 910.0, 1210.0)
    spread = crash_schedule(0.0, 3, over_s=900.0)
    assert spread.restarts == (300.0, 600.0, 900.0)
    # Restarts wanted every 5 s cannot beat the back-off: only 2 within 30 s.
    assert crash_schedule(0.0, 6, over_s=30.0).restarts_by(30.0) == 2
    # Ten minutes of running fine resets the back-off to 10 s.
    reset = crash_schedule(0.0, 2, over_s=2000.0)
    assert reset.restarts[1] - reset.crashes[1] == 10.0


def test_crash_loop_restarts_at_backoff_times_and_heals(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db", container="postgres"), 4)
    pod = {"namespace": NS, "pod": "db-0", "container": "postgres"}
    cluster.advance_to(105.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_pod_container_status_waiting_reason", **pod, reason="CrashLoopBackOff") == 1
    assert one(stored, "kube_pod_container_status_ready", **pod) == 0
    assert one(stored, "kube_pod_status_ready", namespace=NS, pod="db-0", condition="false") == 1
    assert one(stored, "kube_pod_container_status_last_terminated_reason", **pod, reason="Error") == 1
    # The app's endpoint is down while its container is.
    assert one(stored, "up", job="db", pod="db-0") == 0
    expected = {109.9: 0, 110.0: 1, 129.9: 1, 130.0: 2, 170.0: 3, 250.0: 4, 1000.0: 4}
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
    # Restarted at 110, crashed again at once; the restart it was waiting for (at 130) still happens, no more.
    assert one(cluster.stored_samples(), "kube_pod_container_status_restarts_total", namespace=NS, pod="db-0") == 2
    assert not matching(cluster.stored_samples(), "kube_pod_container_status_waiting_reason", namespace=NS)
    with pytest.raises(TypeError, match="over_s"):
        cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 2, ramp_s=3)
    with pytest.raises(ValueError, match="whole number"):
        cluster.apply_fault(scenario("crash-loop", namespace=NS, workload="db"), 2.5)


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

    cluster.advance_to(150.0)
    assert ratio() == pytest.approx((0.7 + 0.05) / 2, abs=1e-6)
    cluster.advance_to(200.0)
    assert ratio() == pytest.approx(0.05, abs=1e-6)
    cluster.revert_fault(handle)
    assert ratio() == pytest.approx(0.7, abs=1e-6)


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
    api_on_w1 = [p.name for p in cluster.pods if p.node == "w1" and p.workload and p.workload.name == "api"]
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
    assert {p.name for p in cluster.pods if p.node == "w1"} >= set(api_on_w1)
    cluster.advance_to(100.0 + 40.0 + 300.0)
    assert not {p.name for p in cluster.pods} & set(api_on_w1)
    cluster.advance_to(460.0)
    stored = cluster.stored_samples()
    assert one(stored, "kube_deployment_status_replicas_available", namespace=NS, deployment="api") == 4
    assert one(stored, "kube_daemonset_status_number_unavailable", namespace=NS, daemonset="agent") == 1
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w1", condition="Ready", status="true") == 1
    assert one(stored, "up", job="kubelet", node="w1", metrics_path="/metrics") == 1
    down = cluster.apply_fault(scenario("node-not-ready", node="w2", params={"ready_status": "false"}), None)
    stored = cluster.stored_samples()
    assert one(stored, "kube_node_status_condition", node="w2", condition="Ready", status="false") == 1
    cluster.revert_fault(down)


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


def test_fail_job_and_revert(cluster: SimulatedCluster) -> None:
    handle = cluster.apply_fault(scenario("fail-job", namespace=NS, job="migrate"), None)
    stored = cluster.stored_samples()
    assert one(stored, "kube_job_failed", job_name="migrate", condition="true") == 1
    assert one(stored, "kube_job_status_failed", job_name="migrate", reason="BackoffLimitExceeded") == 1
    assert one(stored, "kube_job_status_active", job_name="migrate") == 0
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_job_failed", job_name="migrate")
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
