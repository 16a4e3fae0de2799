"""Where a Kubernetes run reads what the alerting stack did: Prometheus, Alertmanager and the capture webhook.

Each is an :class:`Endpoint`: either a URL (``--prometheus-url``, ``--alertmanager-url``) or a Service reached
through the API server's service proxy, so a run needs no port-forward and no ingress. Without a URL, Prometheus
and Alertmanager are found from the Prometheus Operator's objects: the first ``monitoring.coreos.com/v1``
Prometheus (Alertmanager) in the namespace searched, served by the governing Service the operator creates for it
(``prometheus-operated:9090``, ``alertmanager-operated:9093``) under its ``spec.routePrefix``.

A read that fails (a 503 while a pod restarts, a timeout) answers ``None``: the watch retries at its next poll.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import requests

from conformance.errors import BackendError
from conformance.kube import resources as r
from conformance.kube.client import KubeApiError, KubeClient, Obj
from conformance.kube.stack import CAPTURE_NAME, CAPTURE_PORT

#: Services the Prometheus Operator creates beside every Prometheus and Alertmanager it runs.
PROMETHEUS_SERVICE = ("prometheus-operated", 9090)
ALERTMANAGER_SERVICE = ("alertmanager-operated", 9093)
HTTP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Endpoint:
    """An HTTP API at ``url``, or at ``service:port`` in ``namespace`` through the API server's service proxy."""

    description: str
    client: KubeClient | None = None
    namespace: str = ""
    service: str = ""
    port: int = 0
    prefix: str = ""
    url: str | None = None

    def get_json(self, path: str, query: dict[str, str] | None = None) -> Any:
        """GET ``path`` (below the prefix) and decode it; None when the read failed (retried at the next poll)."""
        full = f"{self.prefix.rstrip('/')}/{path.lstrip('/')}"
        try:
            if self.url is not None:
                response = requests.get(self.url.rstrip("/") + full, params=query, timeout=HTTP_TIMEOUT_S)
                response.raise_for_status()
                return response.json()
            assert self.client is not None
            raw = self.client.proxy("GET", "services", self.namespace, self.service, self.port, full, query=query)
            return json.loads(raw)
        except (requests.RequestException, KubeApiError, ValueError):
            return None


@dataclass(frozen=True)
class ClusterSources:
    """The three endpoints a run watches: the :class:`~conformance.observe.sources.AlertSources` of a cluster."""

    prometheus: Endpoint
    alertmanager: Endpoint
    capture: Endpoint

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        """``(labels, state)`` of every alert Prometheus holds (``pending`` or ``firing``); None: not read."""
        body = self.prometheus.get_json("api/v1/alerts")
        if not isinstance(body, dict):
            return None
        alerts = (body.get("data") or {}).get("alerts") or []
        return [(dict(a.get("labels") or {}), str(a.get("state"))) for a in alerts if isinstance(a, dict)]

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        """Alertmanager's ``/api/v2/alerts`` (labels, ``status.state``, ``receivers``); None: not read. One
        Alertmanager serves every routing set-up of the profile (None: named after the first)."""
        body = self.alertmanager.get_json("api/v2/alerts")
        return [(None, [a for a in body if isinstance(a, dict)])] if isinstance(body, list) else None

    def captured(self, since: int = 0) -> tuple[list[dict[str, Any]], int] | None:
        """Entries the capture webhook holds from index ``since``, and the next index; None: not read."""
        body = self.capture.get_json("captured", {"since": str(since)})
        if not isinstance(body, dict):
            return None
        entries = [e for e in body.get("entries") or [] if isinstance(e, dict)]
        return entries, int(body.get("next", since + len(entries)))

    def describe(self) -> list[str]:
        return [self.prometheus.description, self.alertmanager.description, self.capture.description]


def operator_object(client: KubeClient, resource: r.Resource, namespace: str | None) -> Obj | None:
    """The first (by namespace and name) Prometheus or Alertmanager object, in ``namespace`` or anywhere."""
    found = sorted(
        client.list(resource, namespace), key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
    )
    return found[0] if found else None


def _operated(
    client: KubeClient, kind: Literal["Prometheus", "Alertmanager"], namespace: str | None, url: str | None, option: str
) -> Endpoint:
    if url:
        return Endpoint(f"{kind}: {url} ({option})", url=url)
    resource = r.PROMETHEUSES if kind == "Prometheus" else r.ALERTMANAGERS
    obj = operator_object(client, resource, namespace)
    if obj is None:
        where = f"namespace {namespace}" if namespace else "the cluster"
        raise BackendError(f"no monitoring.coreos.com/v1 {kind} found in {where}; pass {option}")
    service, port = PROMETHEUS_SERVICE if kind == "Prometheus" else ALERTMANAGER_SERVICE
    meta = obj["metadata"]
    prefix = str((obj.get("spec") or {}).get("routePrefix") or "")
    return Endpoint(
        f"{kind}: {meta['namespace']}/{meta['name']} via service {service}:{port} through the API server's proxy",
        client=client,
        namespace=meta["namespace"],
        service=service,
        port=port,
        prefix=prefix,
    )


def find_sources(
    client: KubeClient,
    *,
    monitoring_namespace: str | None,
    capture_namespace: str,
    prometheus_url: str | None = None,
    alertmanager_url: str | None = None,
) -> ClusterSources:
    """The endpoints of a run: the URLs given, else the operator's objects (``monitoring_namespace`` None:
    anywhere in the cluster); the capture webhook in ``capture_namespace``."""
    return ClusterSources(
        _operated(client, "Prometheus", monitoring_namespace, prometheus_url, "--prometheus-url"),
        _operated(client, "Alertmanager", monitoring_namespace, alertmanager_url, "--alertmanager-url"),
        Endpoint(
            f"capture webhook: {capture_namespace}/{CAPTURE_NAME}:{CAPTURE_PORT} through the API server's proxy",
            client=client,
            namespace=capture_namespace,
            service=CAPTURE_NAME,
            port=CAPTURE_PORT,
        ),
    )


def rule_selection(prometheus: Obj) -> tuple[dict[str, str], dict[str, str] | None]:
    """``(rule labels, namespace labels)`` that make the Prometheus object select a PrometheusRule.

    The rule carries the ``matchLabels`` of ``spec.ruleSelector``; the namespace it lives in needs the
    ``matchLabels`` of ``spec.ruleNamespaceSelector`` (None: the selector is ``{}``, every namespace). A null
    selector (no rules, or only the Prometheus's own namespace) or ``matchExpressions`` cannot be met by labels
    on the suite's own objects: that is a :class:`BackendError` naming the object.
    """
    meta, spec = prometheus["metadata"], prometheus.get("spec") or {}
    name = f"Prometheus {meta.get('namespace')}/{meta['name']}"
    selector = spec.get("ruleSelector")
    if selector is None:
        raise BackendError(
            f"{name} has no spec.ruleSelector: it selects no PrometheusRule, so the pack's rules "
            "cannot be loaded; run without --alert-pack to certify the rules it already has"
        )
    namespaces = spec.get("ruleNamespaceSelector")
    if namespaces is None:
        raise BackendError(
            f"{name} selects PrometheusRules only in its own namespace {meta.get('namespace')} "
            "(spec.ruleNamespaceSelector is not set); the suite writes only into its own namespaces"
        )
    for what, value in (("spec.ruleSelector", selector), ("spec.ruleNamespaceSelector", namespaces)):
        if value.get("matchExpressions"):
            raise BackendError(
                f"{name}: {what} uses matchExpressions, which the suite does not satisfy; "
                "use matchLabels or run without --alert-pack"
            )
    rule_labels = {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}
    ns_labels = {str(k): str(v) for k, v in (namespaces.get("matchLabels") or {}).items()}
    return rule_labels, ns_labels or None
