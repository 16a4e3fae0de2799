"""What a default kube-prometheus-stack install scrapes beyond kube-state-metrics, node-exporter, the kubelet and
cAdvisor: the control plane, the kubelet's probes endpoint, and the health families the default rules read."""

from __future__ import annotations

import pytest

from conformance import versions
from conformance.model.workloads import ContainerSpec, Environment, NodeSpec, ScrapeSpec, WorkloadSpec
from conformance.sim import SimulatedCluster, matching
from conformance.sim.examples import example_environment
from conformance.sim.exposition import Exposed
from conformance.sim.families.steady import emit_histogram, steady_count
from conformance.sim.types import SeriesKey

CHART = "kube-prometheus-stack"


def one(stored: dict[SeriesKey, float], name: str, **labels: str) -> float:
    found = matching(stored, name, **labels)
    assert len(found) == 1, f"expected one {name}{labels}, found {sorted(found)}"
    return next(iter(found.values()))


def labels_of(stored: dict[SeriesKey, float], name: str, **labels: str) -> list[dict[str, str]]:
    return [dict(key) for key in matching(stored, name, **labels)]


@pytest.fixture(scope="module")
def healthy() -> SimulatedCluster:
    cluster = SimulatedCluster(example_environment())
    cluster.advance_to(300.0)
    return cluster


@pytest.fixture(scope="module")
def stored(healthy: SimulatedCluster) -> dict[SeriesKey, float]:
    return healthy.stored_samples()


def test_control_plane_targets_carry_the_chart_servicemonitor_labels(healthy: SimulatedCluster) -> None:
    targets = {t.id: t for t in healthy.targets()}
    api = targets["control-plane-apiserver-cp"]
    assert dict(api.labels) == {
        "job": "apiserver",
        "instance": "172.18.0.2:6443",
        "namespace": "default",
        "service": "kubernetes",
        "endpoint": "https",
    }
    scheduler = targets["control-plane-kube-scheduler-cp"]
    assert dict(scheduler.labels) == {
        "job": "kube-scheduler",
        "instance": "172.18.0.2:10259",
        "namespace": "kube-system",
        "service": f"{CHART}-kube-scheduler",
        "endpoint": "http-metrics",
        "pod": "kube-scheduler-cp",
    }
    assert targets["control-plane-kube-controller-manager-cp"].labels["instance"] == "172.18.0.2:10257"
    assert targets["control-plane-etcd-cp"].labels["service"] == f"{CHART}-kube-etcd"
    jobs = [t.job for t in targets.values() if t.id.startswith("control-plane-")]
    # Two CoreDNS replicas, one kube-proxy per node (the example cluster has four), one of each static pod.
    assert sorted(set(jobs)) == [
        "apiserver",
        "coredns",
        "kube-controller-manager",
        "kube-etcd",
        "kube-proxy",
        "kube-scheduler",
    ]
    assert jobs.count("coredns") == 2 and jobs.count("kube-proxy") == 4
    coredns = [t for t in targets.values() if t.job == "coredns"]
    assert all(t.labels["container"] == "coredns" and t.labels["pod"].startswith("coredns-") for t in coredns)
    assert all(not t.honor_labels for t in targets.values() if t.id.startswith("control-plane-"))


def test_every_kubelet_has_a_probes_target(healthy: SimulatedCluster) -> None:
    targets = {t.id: t for t in healthy.targets()}
    for node in ("cp", "w1", "w2", "w3"):
        probes = targets[f"probes-{node}"]
        assert probes.job == "kubelet" and probes.honor_labels
        assert probes.labels["metrics_path"] == "/metrics/probes" and probes.labels["node"] == node


def test_up_and_versions_agree_across_the_control_plane(stored: dict[SeriesKey, float]) -> None:
    for job in ("apiserver", "kube-controller-manager", "kube-scheduler", "kube-etcd", "coredns", "kube-proxy"):
        assert labels_of(stored, "up", job=job) and all(v == 1 for v in matching(stored, "up", job=job).values())
    # KubeVersionMismatch counts major.minor over every kubernetes_build_info: one version everywhere.
    versions_seen = {labels["git_version"] for labels in labels_of(stored, "kubernetes_build_info")}
    assert versions_seen == {versions.KUBERNETES}


def test_apiserver_families_the_slo_rules_read(stored: dict[SeriesKey, float]) -> None:
    totals = labels_of(stored, "apiserver_request_total", job="apiserver")
    assert {labels["verb"] for labels in totals} >= {"GET", "LIST", "POST", "PUT", "PATCH", "DELETE"}
    assert all(set(labels) >= {"code", "component", "resource", "scope", "version"} for labels in totals)
    assert not [labels for labels in totals if labels["code"].startswith("5")]  # healthy: no 5xx child yet
    buckets = {labels["le"] for labels in labels_of(stored, "apiserver_request_sli_duration_seconds_bucket")}
    # Only the buckets the chart's metricRelabelings keep, among them the SLO thresholds 1, 5 and 30 s.
    assert buckets == {"0.05", "0.1", "1", "5", "10", "30", "60", "+Inf"}
    assert all(v == 0 for v in matching(stored, "aggregator_unavailable_apiservice").values())
    # Every client certificate has most of a year left: the 1st percentile is above a week.
    inf = one(stored, "apiserver_client_certificate_expiration_seconds_bucket", le="+Inf")
    week = one(stored, "apiserver_client_certificate_expiration_seconds_bucket", le="604800")
    assert inf > 0 and week == 0


def test_kubelet_health_families(stored: dict[SeriesKey, float]) -> None:
    ttl = one(stored, "kubelet_certificate_manager_client_ttl_seconds", node="w1")
    assert 300 * 86400 < ttl < 365 * 86400
    assert one(stored, "kubelet_certificate_manager_client_expiration_renew_errors", node="w1") == 0
    # A kubeadm kubelet serves a self-signed certificate: no server certificate manager, no such series.
    assert not matching(stored, "kubelet_certificate_manager_server_ttl_seconds")
    relists = one(stored, "kubelet_pleg_relist_duration_seconds_count", node="w1")
    fast = one(stored, "kubelet_pleg_relist_duration_seconds_bucket", node="w1", le="0.025")
    assert relists > 0 and fast / relists > 0.9
    assert matching(stored, "kubelet_pod_worker_duration_seconds_bucket", node="w1", operation_type="sync")
    probes = labels_of(stored, "prober_probe_total", node="w1")
    assert probes and all(p["metrics_path"] == "/metrics/probes" and p["result"] == "successful" for p in probes)


def test_node_exporter_default_collectors(stored: dict[SeriesKey, float]) -> None:
    instance = "172.18.0.3:9100"
    assert one(stored, "node_timex_sync_status", instance=instance) == 1
    assert abs(one(stored, "node_timex_offset_seconds", instance=instance)) < 0.05
    allocated = one(stored, "node_filefd_allocated", instance=instance)
    assert allocated / one(stored, "node_filefd_maximum", instance=instance) < 0.7
    entries = one(stored, "node_nf_conntrack_entries", instance=instance)
    assert entries / one(stored, "node_nf_conntrack_entries_limit", instance=instance) < 0.75
    assert one(stored, "node_textfile_scrape_error", instance=instance) == 0
    assert one(stored, "node_disk_io_time_weighted_seconds_total", instance=instance, device="sda") > 0
    assert matching(stored, "node_vmstat_pgmajfault", instance=instance)
    assert matching(stored, "node_memory_Slab_bytes", instance=instance)
    # Off by default (systemd) or hardware a kind node has not (md arrays, bonds).
    for absent in ("node_systemd_unit_state", "node_md_disks", "node_bonding_slaves"):
        assert not matching(stored, absent)


def test_cadvisor_machine_and_container_filesystem(stored: dict[SeriesKey, float]) -> None:
    cores = one(stored, "machine_cpu_cores", node="w1")
    assert cores == 8 and one(stored, "machine_memory_bytes", node="w1") == 32 * 2**30
    usage = labels_of(stored, "container_fs_usage_bytes", node="w1")
    assert usage and all(labels["device"] == "/dev/sda1" and labels["container"] for labels in usage)
    assert matching(stored, "container_processes", node="w1")
    # Served, but dropped by the chart's cAdvisorMetricRelabelings before storage.
    assert not matching(stored, "container_file_descriptors")


def test_steady_counters_grow_between_scrapes_and_never_reset() -> None:
    cluster = SimulatedCluster(example_environment())
    cluster.advance_to(60.0)
    before = cluster.stored_samples()
    cluster.advance_to(120.0)
    after = cluster.stored_samples()
    for name in ("apiserver_request_total", "node_vmstat_pgfault", "kubelet_pleg_relist_duration_seconds_count"):
        series = matching(after, name)
        assert series
        for key, value in series.items():
            assert value > before[key], f"{name} did not grow: {dict(key)}"


def test_histogram_buckets_are_cumulative_whole_counts() -> None:
    out = Exposed()
    out.declare("x_seconds", "histogram", "")
    emit_histogram(out, "x_seconds", {}, 1001.0, {0.1: 0.5, 1.0: 0.9, 10.0: 1.0}, 0.2)
    buckets = [s.value for s in out.samples if s.name == "x_seconds_bucket"]
    assert buckets == [500, 900, 1001, 1001]
    assert [s.labels["le"] for s in out.samples if s.name == "x_seconds_bucket"] == ["0.1", "1", "10", "+Inf"]
    assert steady_count(2.0, -10.0, 0.26) == 20


def test_without_a_control_plane_node_only_the_api_server_is_scraped() -> None:
    env = Environment(nodes=(NodeSpec(name="n1"), NodeSpec(name="n2")), namespaces=("monitoring",))
    cluster = SimulatedCluster(env)
    jobs = {t.job for t in cluster.targets() if t.id.startswith("control-plane-")}
    assert jobs == {"apiserver", "coredns", "kube-proxy"}


def test_a_kube_system_stand_in_scraped_under_a_component_job_replaces_that_component() -> None:
    # The bundled kube-prometheus profile takes KubeSchedulerDown's job down with a fault on a stand-in workload:
    # a simulated scheduler beside it would keep absent(up{job="kube-scheduler"} == 1) empty for ever.
    stand_in = WorkloadSpec(
        kind="Deployment",
        name="kube-scheduler",
        namespace="kube-system",
        containers=(ContainerSpec(name="kube-scheduler"),),
        scrape=ScrapeSpec(job="kube-scheduler", port=10259),
    )
    # Scraped under the same job in another namespace, a workload is an application of its own.
    elsewhere = WorkloadSpec(
        kind="Deployment",
        name="apiserver",
        namespace="shop",
        containers=(ContainerSpec(name="api"),),
        scrape=ScrapeSpec(job="apiserver"),
    )
    env = Environment(
        nodes=(NodeSpec(name="cp", role="control-plane"), NodeSpec(name="w1")),
        namespaces=("monitoring", "kube-system", "shop"),
        workloads=(stand_in, elsewhere),
    )
    cluster = SimulatedCluster(env)
    simulated = {t.job for t in cluster.targets() if t.id.startswith("control-plane-")}
    assert "kube-scheduler" not in simulated and {"apiserver", "kube-controller-manager"} <= simulated
    assert [t.labels["namespace"] for t in cluster.targets() if t.job == "kube-scheduler"] == ["kube-system"]
    assert not any(t.id.startswith("control-plane-") for t in cluster.targets() if t.job == "kube-scheduler")


def test_operator_and_config_reloaders_as_the_chart_scrapes_them(healthy: SimulatedCluster) -> None:
    targets = {t.id: t for t in healthy.targets()}
    operator = targets["stack-operator"]
    assert operator.job == f"{CHART}-operator" and operator.labels["container"] == CHART
    reloader = targets["stack-prometheus-reloader"]
    assert reloader.job == reloader.labels["service"] == f"{CHART}-prometheus"
    assert reloader.labels["endpoint"] == "reloader-web" and reloader.labels["container"] == "config-reloader"
    assert reloader.labels["pod"] == f"prometheus-{CHART}-prometheus-0"
    stored = healthy.stored_samples()
    assert sorted(matching(stored, "reloader_last_reload_successful").values()) == [1, 1]
    ready = matching(stored, "prometheus_operator_ready", job=f"{CHART}-operator")
    assert len(ready) == 3 and set(ready.values()) == {1}
    assert not [v for v in matching(stored, "prometheus_operator_syncs", status="failed").values() if v]
    assert one(stored, "prometheus_operator_reconcile_operations_total", controller="prometheus") > 0


def _values(text: str | None) -> dict[str, float]:
    lines = [line.rsplit(" ", 1) for line in (text or "").splitlines() if line and not line.startswith("#")]
    return {series: float(value) for series, value in lines}


def test_the_chart_targets_answered_late_give_the_values_of_the_time_the_scrape_was_stamped() -> None:
    # The twin serves a scrape after Prometheus stamped it and answers with the cluster set back to that time
    # (SimulatedCluster._rewound sets back the clock and cluster.acc). The chart's steady counters and histograms
    # (control plane, operator, kubelet health and probes, node-exporter's extra families) are closed forms of
    # the clock: set back with it, they must read as they did then, not as they do when the server gets to it.
    stamped, served = 400.0, 700.0
    on_time, late = SimulatedCluster(example_environment()), SimulatedCluster(example_environment())
    on_time.advance_to(stamped)
    late.advance_to(served)
    chart_targets = [
        target
        for target in late.targets()
        if target.id.startswith(("control-plane-", "stack-", "probes-", "kubelet-", "node-exporter-"))
    ]
    moving = set()
    for target in chart_targets:
        want, got = _values(on_time.exposition(target.id)), _values(late.exposition(target.id, stamped))
        assert want.keys() == got.keys(), target.id
        assert all(got[key] == pytest.approx(value, rel=1e-9, abs=1e-9) for key, value in want.items()), target.id
        if _values(late.exposition(target.id)) != want:
            moving.add(f"{target.job}{target.metrics_path}")
    # The comparison means something only where the answer of now differs from the stamped one.
    assert {
        "apiserver/metrics",
        "kube-etcd/metrics",
        "coredns/metrics",
        "kube-proxy/metrics",
        f"{CHART}-operator/metrics",
        "kubelet/metrics",
        "kubelet/metrics/probes",
        "node-exporter/metrics",
    } <= moving, moving
