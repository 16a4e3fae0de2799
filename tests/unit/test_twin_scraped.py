"""Which targets the twin's Prometheus scrapes: only those whose series some rule can read."""

from __future__ import annotations

import pytest

from conformance.options import Options
from conformance.session import ConformanceSession
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.testing.toy import ToyCluster
from conformance.twin.backend import TwinBackend
from conformance.twin.scraped import choosing_names, scraped


def test_the_rules_names_choose_the_targets_unless_they_read_a_per_target_series_or_a_regex() -> None:
    assert choosing_names({"kube_pod_info", "node_load1"}) == frozenset({"kube_pod_info", "node_load1"})
    assert choosing_names({"kube_pod_info", "up"}) is None  # up{job=...} is written for every target
    assert choosing_names({"scrape_duration_seconds"}) is None
    assert choosing_names(None) is None  # a regex picks the names: any may be read


def test_only_targets_that_may_serve_a_read_name_are_scraped() -> None:
    cluster = SimulatedCluster(example_environment())
    every = cluster.targets()
    chosen = scraped(cluster, frozenset({"kube_deployment_spec_replicas", "container_cpu_usage_seconds_total"}))
    kinds = {(target.job, target.metrics_path) for target in chosen}
    assert ("kube-state-metrics", "/metrics") in kinds and ("kubelet", "/metrics/cadvisor") in kinds
    # Exporters of other families are left alone: the control plane, the operator, probes, node-exporter.
    assert not any(target.id.startswith(("control-plane-", "stack-", "probes-", "node-exporter-")) for target in chosen)
    assert ("kubelet", "/metrics") not in kinds
    # An application's target may serve any name: always scraped.
    assert {t.id for t in every if t.id.startswith("pod-")} <= {t.id for t in chosen}
    assert scraped(cluster, None) == every


def test_a_cluster_that_cannot_say_what_its_targets_serve_is_scraped_whole() -> None:
    cluster = ToyCluster([("shop", "web")])
    assert scraped(cluster, frozenset({"kube_pod_info"})) == cluster.targets()


@pytest.mark.parametrize(("profile", "control_plane_scraped"), [("runai", False), ("kube-prometheus", True)])
def test_the_twin_scrapes_the_control_plane_only_for_a_pack_that_reads_it(
    profile: str, control_plane_scraped: bool
) -> None:
    session = ConformanceSession.open(Options(profile=profile))
    try:
        backend = TwinBackend(session.profile, session.pack, time_scale=20)
        settings = backend._settings("twin-test", backfill=False)
        cluster = SimulatedCluster(session.profile.environment)
        chosen = scraped(cluster, settings.scraped_names)
        assert any(t.job == "apiserver" for t in chosen) is control_plane_scraped
        assert any(t.job == "kube-state-metrics" for t in chosen)
    finally:
        session.close()
