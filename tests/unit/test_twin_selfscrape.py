"""The twin's real Prometheus and Alertmanager scraped as themselves, under the job names the pack's rules select."""

from __future__ import annotations

from pathlib import Path

from conformance.packs.model import Pack, Rule, RuleGroup
from conformance.twin.selfscrape import SelfJobs, SelfTarget, jobs_selected_by, scrape_configs


def pack_of(*exprs: str) -> Pack:
    rules = tuple(Rule(expr, "g", "rules.yaml", None, alert=f"A{i}") for i, expr in enumerate(exprs))
    return Pack(Path("."), (RuleGroup("g", rules, "rules.yaml"),), (), ())


def test_job_names_follow_the_rules_on_each_process_own_families() -> None:
    pack = pack_of(
        'max_over_time(prometheus_config_last_reload_successful{job="prometheus-k8s",namespace="monitoring"}[5m]) == 0',
        'rate(prometheus_notifications_errors_total{job="prometheus-k8s"}[5m]) > 0',
        # The operator's families are not Prometheus's own: its job does not name the Prometheus.
        'prometheus_operator_ready{job="prometheus-operator"} == 0',
        'prometheus_operator_syncs{job="prometheus-operator"} > 0',
        'prometheus_operator_syncs{job="prometheus-operator"} > 1',
        'alertmanager_config_hash{job="alertmanager-main",container="alertmanager"} > 0',
        'up{job="apiserver"} == 0',
    )
    assert jobs_selected_by(pack) == SelfJobs("prometheus-k8s", "alertmanager-main")


def test_a_pack_that_names_no_job_gets_the_chart_names() -> None:
    jobs = jobs_selected_by(pack_of("prometheus_config_last_reload_successful == 0", 'up{job=~"alert.*"} == 0'))
    assert jobs == SelfJobs("kube-prometheus-stack-prometheus", "kube-prometheus-stack-alertmanager")
    assert SelfJobs.chart("monitoring").alertmanager_of(1) == "monitoring-alertmanager-2"


def test_each_target_is_labelled_as_its_servicemonitor_labels_it() -> None:
    targets = [
        SelfTarget("127.0.0.1:9090", "prometheus-k8s", "prometheus-k8s-0", "prometheus"),
        SelfTarget("127.0.0.1:9091", "prometheus-k8s", "prometheus-k8s-1", "prometheus"),
        SelfTarget("127.0.0.1:9093", "alertmanager-main", "alertmanager-main-0", "alertmanager"),
    ]
    configs = {c["job_name"]: c for c in scrape_configs(targets, "monitoring", scrape_s=2.0, keep={"b_total", "a"})}
    assert sorted(configs) == ["self-alertmanager-main", "self-prometheus-k8s"]
    prometheus = configs["self-prometheus-k8s"]
    assert prometheus["scrape_interval"] == prometheus["scrape_timeout"] == "2s"
    assert [c["targets"] for c in prometheus["static_configs"]] == [["127.0.0.1:9090"], ["127.0.0.1:9091"]]
    assert configs["self-alertmanager-main"]["static_configs"][0]["labels"] == {
        "job": "alertmanager-main",
        "namespace": "monitoring",
        "service": "alertmanager-main",
        "endpoint": "http-web",
        "pod": "alertmanager-main-0",
        "container": "alertmanager",
    }
    # Only what the pack reads is stored.
    assert prometheus["metric_relabel_configs"] == [
        {"source_labels": ["__name__"], "regex": "a|b_total", "action": "keep"}
    ]
    assert scrape_configs(targets, "monitoring", scrape_s=2.0)[0]["metric_relabel_configs"] == []


def test_only_a_pack_that_reads_their_own_families_scrapes_prometheus_and_alertmanager() -> None:
    from conformance.twin.selfscrape import reads_own_families

    assert reads_own_families(pack_of('alertmanager_config_hash{job="alertmanager-main"} > 0'))
    assert not reads_own_families(pack_of('prometheus_operator_ready{job="prometheus-operator"} == 0', "up == 0"))
