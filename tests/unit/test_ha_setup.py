"""High availability as a documented set-up: the profile's replica counts, and the counts a pack sets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import errors
from conformance.packs.loader import load_pack
from conformance.profiles import find_profile, load_profile
from conformance.replicas import alertmanager_replicas, is_high_availability, prometheus_replicas

SEEDS = Path("/work/shared/seeds")

RULES = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "labels": {"severity": "critical"}}]}]}
AM_CONFIG = {"route": {"receiver": "hook"}, "receivers": [{"name": "hook", "webhook_configs": [{"url": "http://x"}]}]}


def _pack(tmp_path: Path, *documents: dict[str, Any]) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump_all([RULES, *documents]))
    return path


def test_kube_prometheus_stack_values_set_both_counts(tmp_path: Path) -> None:
    values = {
        "kube-prometheus-stack": {
            "prometheus": {"prometheusSpec": {"replicas": 2}},
            "alertmanager": {"alertmanagerSpec": {"replicas": 3}, "config": AM_CONFIG},
        }
    }
    pack = load_pack(_pack(tmp_path, values))
    assert pack.prometheus_replicas == 2
    assert "prometheus.prometheusSpec.replicas" in pack.prometheus_replicas_source
    assert [setup.replicas for setup in pack.setups] == [3]


def test_a_runaiconfig_sets_prometheus_replicas_under_prometheus_spec(tmp_path: Path) -> None:
    config = {"apiVersion": "run.ai/v1", "kind": "RunaiConfig", "spec": {"prometheus": {"spec": {"replicas": 2}}}}
    pack = load_pack(_pack(tmp_path, config))
    assert pack.prometheus_replicas == 2


def test_an_alertmanager_resource_sets_its_set_ups_replicas(tmp_path: Path) -> None:
    am = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Alertmanager",
        "metadata": {"name": "main", "namespace": "mon"},
        "spec": {"replicas": 3, "alertmanagerConfigSelector": {}},
    }
    config = {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {"name": "hook", "namespace": "mon"},
        "spec": {
            "route": {"receiver": "hook"},
            "receivers": [{"name": "hook", "webhookConfigs": [{"url": "http://x"}]}],
        },
    }
    pack = load_pack(_pack(tmp_path, am, config))
    assert [(setup.form, setup.replicas) for setup in pack.setups] == [("operator", 3)]


def test_a_pack_that_says_nothing_sets_no_counts(tmp_path: Path) -> None:
    pack = load_pack(_pack(tmp_path, AM_CONFIG))
    assert pack.prometheus_replicas is None
    assert [setup.replicas for setup in pack.setups] == [None]


def test_two_places_that_disagree_are_an_error_naming_both(tmp_path: Path) -> None:
    values = {"prometheus": {"prometheusSpec": {"replicas": 2}}}
    prometheus = {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "spec": {"replicas": 3}}
    with pytest.raises(errors.PackError, match=r"different Prometheus replicas .*: 2, .*: 3"):
        load_pack(_pack(tmp_path, values, prometheus))


def test_the_runai_profile_documents_ha_and_its_pack_sets_the_replicas() -> None:
    profile = load_profile("runai")
    pack = load_pack(profile.pack_path)
    ha = profile.high_availability
    assert ha is not None
    assert (ha.prometheus_replicas.value, ha.prometheus_replicas.documented) == (2, True)
    assert ha.alertmanager_replicas.documented is False and ha.alertmanager_replicas.note
    assert prometheus_replicas(profile, pack) == 2
    counts = {setup.form: alertmanager_replicas(profile, setup) for setup in pack.setups}
    assert counts == {"helm-values": 2, "operator": 1}  # seed 000's Alertmanager resource says replicas: 1
    assert is_high_availability(profile, pack)


@pytest.mark.parametrize("name", ["aistore", "kube-prometheus", "mlops", "seldon"])
def test_profiles_without_ha_run_one_of_each(name: str) -> None:
    profile = load_profile(name)
    pack = load_pack(profile.pack_path)
    assert not is_high_availability(profile, pack)


def _words(text: str) -> str:
    return re.sub(r"\s+([,.])", r"\1", re.sub(r"\s+", " ", text)).strip()


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed documents are not on this machine")
def test_every_ha_statement_is_quoted_from_its_seed() -> None:
    ha = load_profile("runai").high_availability
    assert ha is not None
    sources = [ha.prometheus_replicas.source, ha.system_workers.source if ha.system_workers else None]
    sources += [statement.source for statement in ha.statements]
    assert all(statement.documented for statement in ha.statements)
    for source in sources:
        assert source is not None
        seed = _words((SEEDS / source.seed).read_text())
        assert _words(source.quote) in seed, source.quote


def test_a_documented_count_needs_its_source(tmp_path: Path) -> None:
    data = yaml.safe_load(find_profile("runai").read_text())
    del data["high_availability"]["prometheus_replicas"]["source"]
    data["pack"] = str(find_profile("runai").parent / "pack")
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(errors.ProfileError, match="source"):
        load_profile(str(path))


def test_the_kind_chart_values_run_the_packs_replicas() -> None:
    from conformance.kube.stack import stack_values

    profile = load_profile("runai")
    values = stack_values(profile, load_pack(profile.pack_path), "capture")
    assert values["prometheus"]["prometheusSpec"]["replicas"] == 2
    assert values["alertmanager"]["alertmanagerSpec"]["replicas"] == 2
    single = load_profile("seldon")
    values = stack_values(single, load_pack(single.pack_path), "capture")
    assert "replicas" not in values["prometheus"]["prometheusSpec"]


def test_alertmanager_peers_gossip_on_loopback_with_scaled_timers_and_a_peer_timeout_floor() -> None:
    from conformance.routing.defaults import peer_timeout_wall_s
    from conformance.testing.toy import toy_cluster
    from conformance.twin.stack import StackSettings, TwinStack

    assert peer_timeout_wall_s(1.0) == 15.0 and peer_timeout_wall_s(5.0) == 3.0 and peer_timeout_wall_s(20.0) == 2.0
    profile = load_profile("seldon")
    stack = TwinStack(toy_cluster(profile.environment), load_pack(profile.pack_path), StackSettings(scale=20.0))
    try:
        flags = stack._cluster_flags([9001, 9002, 9003], 1)
        assert flags == [
            "--cluster.listen-address=127.0.0.1:9002",
            "--cluster.advertise-address=127.0.0.1:9002",
            "--cluster.peer=127.0.0.1:9001",
            "--cluster.peer=127.0.0.1:9003",
            "--cluster.peer-timeout=2s",
            "--cluster.gossip-interval=10ms",
            "--cluster.pushpull-interval=3s",
            "--cluster.settle-timeout=3s",
        ]
        assert stack._cluster_flags([], 0) == ["--cluster.listen-address="]
        stack.settings.mesh_alertmanagers = False
        assert stack._cluster_flags([9001, 9002], 0) == ["--cluster.listen-address="]
    finally:
        stack.close()
