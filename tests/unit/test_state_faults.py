"""The state faults job-too-long, pv-failed and ksm-list-errors on the simulated cluster, each pinned to the
Kubernetes component whose behaviour it reproduces."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_cluster_faults import NS, one, scenario

from conformance.model.scenario import injected_name
from conformance.sim import SimulatedCluster, matching
from conformance.sim.examples import example_environment
from conformance.sim.families import ksm_self


@pytest.fixture
def cluster() -> SimulatedCluster:
    sim = SimulatedCluster(example_environment())
    sim.advance_to(100.0)
    return sim


@pytest.fixture
def monitored() -> SimulatedCluster:
    """The example cluster with the chart's kube-state-metrics.selfMonitor.enabled turned on."""
    sim = SimulatedCluster(replace(example_environment(), ksm_self_monitor=True))
    sim.advance_to(100.0)
    return sim


# ------------------------------------------------------------------ job-too-long


def test_a_job_that_never_completes_stays_active_with_its_start_time(cluster: SimulatedCluster) -> None:
    """The Job controller sets status.startTime when it first syncs the Job and counts its Running pod in
    status.active; without activeDeadlineSeconds nothing ends it, so it has no Complete/Failed condition."""
    handle = cluster.apply_fault(scenario("job-too-long", namespace=NS, job="migrate"), None)
    name = injected_name("migrate", "running")
    cluster.advance_to(100.0 + 13 * 3600)
    stored = cluster.stored_samples()
    assert one(stored, "kube_job_status_active", job_name=name) == 1
    assert one(stored, "kube_job_status_start_time", job_name=name) == cluster.epoch + 100.0
    assert not matching(stored, "kube_job_complete", job_name=name)
    assert not matching(stored, "kube_job_failed", job_name=name)
    assert not matching(stored, "kube_job_status_completion_time", job_name=name)
    [pod] = [p for p in cluster.pods if p.job is not None and p.job.name == name]
    assert one(stored, "kube_pod_status_phase", pod=pod.name, phase="Running") == 1
    assert pod.ip, "a running pod holds an address"
    # The declared job's own run is left as it was.
    assert one(stored, "kube_job_status_active", job_name="migrate") == 0
    cluster.revert_fault(handle)
    stored = cluster.stored_samples()
    assert not matching(stored, "kube_job_status_active", job_name=name)
    assert not matching(stored, "kube_pod_info", pod=pod.name)


def test_a_cronjobs_job_too_long_is_named_after_the_cronjob(cluster: SimulatedCluster) -> None:
    cluster.apply_fault(scenario("job-too-long", namespace=NS, job="backup"), None)
    assert one(cluster.stored_samples(), "kube_job_status_active", job_name=injected_name("backup", "running")) == 1


# ------------------------------------------------------------------ pv-failed


def test_a_released_hostpath_volume_outside_tmp_is_marked_failed(cluster: SimulatedCluster) -> None:
    """pkg/volume/hostpath/host_path.go: hostPathDeleter.Delete refuses any path not matching /tmp/.+; the PV
    controller's deleteVolumeOperation then sets the phase Failed (VolumeFailedDelete) and keeps the claimRef."""
    handle = cluster.apply_fault(scenario("pv-failed", namespace=NS, volume_claim="data"), None)
    name = injected_name("data", "failed-pv")
    stored = cluster.stored_samples()
    assert one(stored, "kube_persistentvolume_status_phase", persistentvolume=name, phase="Failed") == 1
    for phase in ("Pending", "Available", "Bound", "Released"):
        assert one(stored, "kube_persistentvolume_status_phase", persistentvolume=name, phase=phase) == 0
    assert one(stored, "kube_persistentvolume_claim_ref", persistentvolume=name, claim_namespace=NS) == 1
    assert one(stored, "kube_persistentvolume_info", persistentvolume=name, reclaim_policy="Delete") == 1
    assert not str(next(iter(matching(stored, "kube_persistentvolume_info", persistentvolume=name)))).count("/tmp/")
    # The target claim and its own volume are not touched.
    assert one(stored, "kube_persistentvolumeclaim_status_phase", persistentvolumeclaim="data", phase="Bound") == 1
    cluster.revert_fault(handle)
    assert not matching(cluster.stored_samples(), "kube_persistentvolume_info", persistentvolume=name)


# ------------------------------------------------------------------ kube-state-metrics' own metrics


def test_the_telemetry_port_is_scraped_only_with_self_monitoring(
    cluster: SimulatedCluster, monitored: SimulatedCluster
) -> None:
    """kube-state-metrics chart 8.4.0: the ServiceMonitor's ``metrics`` endpoint exists only with
    selfMonitor.enabled, false by default."""
    assert not matching(cluster.stored_samples(), "kube_state_metrics_list_total")
    [target] = [t for t in monitored.targets() if t.job == "kube-state-metrics" and t.labels["endpoint"] == "metrics"]
    assert target.labels["instance"].endswith(":8081") and target.honor_labels


def test_a_healthy_reflector_lists_once_and_rewatches_every_450s_on_average(monitored: SimulatedCluster) -> None:
    """client-go's reflector lists at start, then watches; each watch lasts minWatchTimeout x (1 + rand)."""
    before = monitored.stored_samples()
    monitored.advance_to(100.0 + 4500.0)
    after = monitored.stored_samples()
    for resource in ksm_self.RESOURCES:
        assert one(after, "kube_state_metrics_list_total", resource=resource, result="success") == 1
        grown = one(after, "kube_state_metrics_watch_total", resource=resource, result="success") - one(
            before, "kube_state_metrics_watch_total", resource=resource, result="success"
        )
        assert grown == pytest.approx(10.0)
    assert not matching(after, "kube_state_metrics_list_total", result="error")
    assert one(after, "kube_state_metrics_total_shards") == 1
    assert one(after, "kube_state_metrics_shard_ordinal", shard_ordinal="0") == 0


def test_a_lost_list_permission_fails_every_list_with_the_reflectors_back_off(monitored: SimulatedCluster) -> None:
    """The open watch streams on until it ends (the simulated cluster: 300 s); then the watch is refused once and
    every List after it, 800 ms doubling to 30 s, jittered (x1.5 on average): 1.2 ... 38.4 s, then every 45 s."""
    assert ksm_self.backoff_waits() == pytest.approx((1.2, 2.4, 4.8, 9.6, 19.2, 38.4))
    handle = monitored.apply_fault(scenario("ksm-list-errors", {"resource": "pods"}), None)
    monitored.advance_to(100.0 + 299.0)
    assert not matching(monitored.stored_samples(), "kube_state_metrics_list_total", result="error")
    refused = 100.0 + 300.0
    monitored.advance_to(refused + 1.2)
    stored = monitored.stored_samples()
    assert one(stored, "kube_state_metrics_list_total", resource="pods", result="error") == 1
    assert one(stored, "kube_state_metrics_watch_total", resource="pods", result="error") == 1
    ramp_end = refused + sum(ksm_self.backoff_waits())
    monitored.advance_to(ramp_end + 450.0)
    stored = monitored.stored_samples()
    assert one(stored, "kube_state_metrics_list_total", resource="pods", result="error") == pytest.approx(16.0)
    # Only the one resource fails; no further watch is attempted while its lists fail.
    assert len(matching(stored, "kube_state_metrics_list_total", result="error")) == 1
    assert one(stored, "kube_state_metrics_watch_total", resource="pods", result="error") == 1
    monitored.revert_fault(handle)
    monitored.advance_to(monitored.now + 600.0)
    stored = monitored.stored_samples()
    assert one(stored, "kube_state_metrics_list_total", resource="pods", result="error") == pytest.approx(16.0)
    assert one(stored, "kube_state_metrics_list_total", resource="pods", result="success") == 2


def test_a_permission_back_before_the_watch_ends_changes_nothing(monitored: SimulatedCluster) -> None:
    handle = monitored.apply_fault(scenario("ksm-list-errors", {"resource": "nodes"}), None)
    monitored.advance_to(200.0)
    monitored.revert_fault(handle)
    monitored.advance_to(2000.0)
    stored = monitored.stored_samples()
    assert not matching(stored, "kube_state_metrics_list_total", result="error")
    assert one(stored, "kube_state_metrics_list_total", resource="nodes", result="success") == 1


def test_an_unknown_resource_is_one_clear_error(monitored: SimulatedCluster) -> None:
    with pytest.raises(ValueError, match="does not watch 'pod'"):
        monitored.apply_fault(scenario("ksm-list-errors", {"resource": "pod"}), None)


def test_a_lost_watch_permission_fails_every_watch_after_a_good_list(monitored: SimulatedCluster) -> None:
    """Only watch refused: ListAndWatch lists (success), its Watch is refused (403 is not a retriable watch
    error), and the back-off runs it again: list successes and watch errors at the same pace, no list error."""
    monitored.apply_fault(scenario("ksm-list-errors", {"resource": "pods", "denied": "watch"}), None)
    ramp_end = 100.0 + 300.0 + sum(ksm_self.backoff_waits())
    monitored.advance_to(ramp_end + 450.0)
    stored = monitored.stored_samples()
    assert not matching(stored, "kube_state_metrics_list_total", result="error")
    assert one(stored, "kube_state_metrics_watch_total", resource="pods", result="error") == pytest.approx(17.0)
    assert one(stored, "kube_state_metrics_list_total", resource="pods", result="success") == pytest.approx(17.0)
