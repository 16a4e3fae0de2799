"""The alerting stack on kind: kube-prometheus-stack at a pinned chart version, values from the profile.

* short scrape and evaluation intervals (:data:`STACK_INTERVAL_S`, or the profile's when shorter), for test
  speed; the pack's own ``for:`` and range windows are untouched;
* every pod of the stack (Prometheus, Alertmanager, the operator and its admission-webhook job,
  kube-state-metrics) pinned to the kind worker reserved for monitoring (:mod:`conformance.kube.layout`), so a
  node fault never stops the stack that must see it; node-exporter, a DaemonSet, still runs on every node;
* the pack's rule groups as ``PrometheusRule`` resources labelled ``release: <release>``, which the chart's
  default ``ruleSelector`` selects;
* the pack's Alertmanager set-up as ``alertmanager.config`` (helm-values, secret and file forms) with every
  receiver re-pointed at the in-cluster capture webhook (:func:`conformance.routing.capture.rewrite_config`, scale
  1), or, for the operator form, the pack's own ``AlertmanagerConfig`` resources with receivers re-pointed and
  the ``release`` label the chart's ``alertmanagerConfigSelector`` is set to match.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from pathlib import Path
from typing import Any

from conformance import versions
from conformance.kube import labels as lb
from conformance.kube.layout import pod_placement
from conformance.model.durations import format_duration
from conformance.model.profile import Profile
from conformance.packs.model import Pack, Rule
from conformance.replicas import alertmanager_replicas, prometheus_replicas
from conformance.routing.capture import capture_path, rewrite_config
from conformance.yamlio import load_documents

CHART = versions.CHART
CHART_REPO = "https://prometheus-community.github.io/helm-charts"
#: pinned: a chart upgrade changes the rules, selectors and defaults the suite relies on
CHART_VERSION = versions.CHART_VERSION  # one release for the twin and the clusters
RELEASE = "alert-conformance"
STACK_INTERVAL_S = 10.0
CAPTURE_NAME = "alert-conformance-capture"
CAPTURE_PORT = 8080
#: The chart's values key of each control-plane component a kind layout can bind for scraping.
CHART_COMPONENT_KEYS = {"kube-controller-manager": "kubeControllerManager", "kube-scheduler": "kubeScheduler"}


def capture_url(namespace: str) -> str:
    return f"http://{CAPTURE_NAME}.{namespace}.svc:{CAPTURE_PORT}"


def rule_dict(rule: Rule) -> dict[str, Any]:
    item: dict[str, Any] = {"alert": rule.alert} if rule.alert else {"record": rule.record}
    item["expr"] = rule.expr
    if rule.alert and rule.for_s:
        item["for"] = format_duration(rule.for_s)
    if rule.alert and rule.keep_firing_for_s:
        item["keep_firing_for"] = format_duration(rule.keep_firing_for_s)
    if rule.labels:
        item["labels"] = dict(rule.labels)
    if rule.alert and rule.annotations:
        item["annotations"] = dict(rule.annotations)
    return item


def prometheus_rules(pack: Pack, namespace: str, run_id: str, selector_labels: dict[str, str]) -> list[dict[str, Any]]:
    """One PrometheusRule per rule group, carrying ``selector_labels`` (e.g. ``release: <release>``)."""
    manifests = []
    for index, group in enumerate(pack.groups):
        spec_group: dict[str, Any] = {"name": group.name, "rules": [rule_dict(rule) for rule in group.rules]}
        if group.interval_s:
            spec_group["interval"] = format_duration(group.interval_s)
        manifests.append(
            {
                "apiVersion": "monitoring.coreos.com/v1",
                "kind": "PrometheusRule",
                "metadata": {
                    "name": f"alert-conformance-pack-{index}",
                    "namespace": namespace,
                    "labels": {**lb.managed_labels(run_id, created=True), **selector_labels},
                },
                "spec": {"groups": [spec_group]},
            }
        )
    return manifests


def _on_monitoring() -> dict[str, str]:
    """A fresh nodeSelector for the monitoring worker (fresh: a shared dict would be dumped as a YAML alias)."""
    selector: dict[str, str] = pod_placement("monitoring")["nodeSelector"]
    return selector


def stack_values(
    profile: Profile, pack: Pack, capture_namespace: str, components: Collection[str] = ()
) -> dict[str, Any]:
    """kube-prometheus-stack values for a kind run; ``components``: the control-plane components the layout binds
    for scraping (:mod:`conformance.kube.layout`), whose ServiceMonitors are enabled."""
    interval = format_duration(min(STACK_INTERVAL_S, profile.scrape_interval_s))
    evaluation = format_duration(min(STACK_INTERVAL_S, profile.evaluation_interval_s))
    values: dict[str, Any] = {
        "grafana": {"enabled": False},
        # kind runs these on the control plane's loopback: unscrapeable, they would only add TargetDown noise.
        "kubeEtcd": {"enabled": False},
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "defaultRules": {"create": False},  # only the pack's rules: every alert is attributable to the pack
        "prometheus": {
            "prometheusSpec": {
                "scrapeInterval": interval,
                "evaluationInterval": evaluation,
                "ruleSelectorNilUsesHelmValues": True,
                "serviceMonitorSelectorNilUsesHelmValues": True,
                "ruleNamespaceSelector": {},
                "serviceMonitorNamespaceSelector": {},
                "nodeSelector": _on_monitoring(),
            }
        },
        "alertmanager": {
            "alertmanagerSpec": {
                "alertmanagerConfigSelector": {"matchLabels": {"release": RELEASE}},
                "alertmanagerConfigNamespaceSelector": {},
                "nodeSelector": _on_monitoring(),
            }
        },
        "prometheusOperator": {
            "nodeSelector": _on_monitoring(),
            "admissionWebhooks": {"patch": {"nodeSelector": _on_monitoring()}},
        },
        "kube-state-metrics": {
            "nodeSelector": _on_monitoring(),
            # Its telemetry port (kube_state_metrics_*) is scraped only where the profile turns it on, as a user
            # of the chart does with this value; the chart's default is off.
            "selfMonitor": {"enabled": profile.environment.ksm_self_monitor},
        },
    }
    for component in components:
        values[CHART_COMPONENT_KEYS[component]] = {"enabled": True}
    # High availability: the replicas the pack (else the profile) sets; the chart's one Alertmanager runs the
    # pack's set-ups together, so it gets the most any of them asks for. The operator meshes its replicas.
    prometheus = prometheus_replicas(profile, pack)
    if prometheus > 1:
        values["prometheus"]["prometheusSpec"]["replicas"] = prometheus
    alertmanagers = max((alertmanager_replicas(profile, s) for s in pack.setups), default=1)
    if alertmanagers > 1:
        values["alertmanager"]["alertmanagerSpec"]["replicas"] = alertmanagers
    setup = next((s for s in pack.setups if s.form != "operator"), None)
    if setup is not None:
        config, _captured, _rewrites = rewrite_config(
            setup.name, setup.config, capture_url(capture_namespace), 1.0, source=setup.source
        )
        values["alertmanager"]["config"] = config
    return values


def alertmanager_configs(pack: Pack, run_id: str, capture_namespace: str) -> list[dict[str, Any]]:
    """The pack's own AlertmanagerConfig resources, receivers re-pointed at the capture webhook, labelled."""
    manifests: list[dict[str, Any]] = []
    setup = pack.setup("operator")
    if setup is None:
        return manifests
    for path in pack.files:
        for document in load_documents(Path(path)) if Path(path).suffix in (".yaml", ".yml") else []:
            data = document.data
            if not (isinstance(data, dict) and data.get("kind") == "AlertmanagerConfig"):
                continue
            resource = copy.deepcopy(data)
            meta = resource.setdefault("metadata", {})
            meta["labels"] = {
                **(meta.get("labels") or {}),
                **lb.managed_labels(run_id, created=True),
                "release": RELEASE,
            }
            for receiver in resource.get("spec", {}).get("receivers", []):
                name = receiver["name"]
                resolved = any(
                    (item or {}).get("sendResolved", key not in ("emailConfigs", "slackConfigs"))
                    for key, items in receiver.items()
                    if key.endswith("Configs")
                    for item in items or []
                )
                generated = f"{meta.get('namespace', 'default')}/{meta['name']}/{name}"
                url = capture_url(capture_namespace) + capture_path(setup.name, generated)
                receiver.clear()
                receiver.update({"name": name, "webhookConfigs": [{"url": url, "sendResolved": resolved}]})
            manifests.append(resource)
    return manifests


def helm_install_argv(helm: Path, namespace: str, values_file: Path, *, timeout: str = "10m") -> list[str]:
    """``helm upgrade --install`` of the pinned chart, waiting (with Helm's own deadline) until it is ready."""
    return [
        str(helm),
        "upgrade",
        "--install",
        RELEASE,
        CHART,
        "--repo",
        CHART_REPO,
        "--version",
        CHART_VERSION,
        "--namespace",
        namespace,
        "--create-namespace",
        "--values",
        str(values_file),
        "--wait",
        "--timeout",
        timeout,
    ]
