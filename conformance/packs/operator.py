"""The Alertmanager config the Prometheus Operator generates from ``AlertmanagerConfig`` resources.

Mirrors ``pkg/alertmanager/amcfg.go`` and ``operator.go`` of prometheus-operator for Alertmanager >= 0.22:

* which resources an ``Alertmanager`` selects: ``alertmanagerConfigSelector`` (absent selects nothing, ``{}``
  selects all) in its own namespace unless ``alertmanagerConfigNamespaceSelector`` is set; with no
  ``Alertmanager`` in the pack every resource is selected;
* the base config: the Secret ``spec.configSecret`` (default ``alertmanager-<name>``), key
  ``alertmanager.yaml``, else the operator's default ``route: {receiver: "null"}``,
  ``receivers: [{name: "null"}]``;
* resources in ``namespace/name`` order, each top-level route converted (camelCase to snake_case, matchers to
  ``name<op>"value"`` strings, receiver names to ``<namespace>/<name>/<receiver>``), given a
  ``namespace="<ns>"`` matcher (matcher strategy ``OnNamespace``, the default; none with ``None``; none for
the
  Alertmanager's own namespace with ``OnNamespaceExceptForAlertmanagerNamespace``) and ``continue: true``, and
  put *before* the base config's routes;
* inhibit rules get the namespace matcher on both sides; receivers and time intervals are appended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from conformance.errors import PackError
from conformance.packs.model import AlertmanagerSetup
from conformance.packs.secrets import SecretDoc
from conformance.routing.matchers import quote
from conformance.yamlio import Document

DEFAULT_BASE: dict[str, Any] = {"route": {"receiver": "null"}, "receivers": [{"name": "null"}]}
_CR_KEYS = {"apiVersion", "kind", "metadata", "spec", "status"}
# The *Configs fields of a receiver and the key Alertmanager uses for each.
_RECEIVER_KEYS = {
    "emailConfigs": "email_configs",
    "webhookConfigs": "webhook_configs",
    "slackConfigs": "slack_configs",
    "pagerdutyConfigs": "pagerduty_configs",
    "pagerDutyConfigs": "pagerduty_configs",
    "opsgenieConfigs": "opsgenie_configs",
    "wechatConfigs": "wechat_configs",
    "weChatConfigs": "wechat_configs",
    "victoropsConfigs": "victorops_configs",
    "victorOpsConfigs": "victorops_configs",
    "pushoverConfigs": "pushover_configs",
    "snsConfigs": "sns_configs",
    "telegramConfigs": "telegram_configs",
    "msteamsConfigs": "msteams_configs",
    "msteamsv2Configs": "msteamsv2_configs",
    "discordConfigs": "discord_configs",
    "webexConfigs": "webex_configs",
    "rocketchatConfigs": "rocketchat_configs",
}
# Fields whose snake_case name is not the mechanical one.
_FIELD_NAMES = {"urlSecret": "url", "pagerDutyImageConfigs": "images", "pagerDutyLinkConfigs": "links"}
_URL_FIELDS = {"url", "api_url", "webhook_url"}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake(name: str) -> str:
    """``groupWait`` -> ``group_wait``, ``apiURL`` -> ``api_url``, ``requireTLS`` -> ``require_tls``."""
    return _FIELD_NAMES.get(name) or _CAMEL.sub("_", name).lower()


@dataclass
class _Context:
    secrets: list[SecretDoc]
    notes: list[str] = field(default_factory=list)


def build_operator_setups(
    configs: list[Document], alertmanagers: list[Document], secrets: list[SecretDoc]
) -> list[AlertmanagerSetup]:
    """One ``operator`` set-up per ``Alertmanager`` resource (or one for all configs when there is none)."""
    if not configs:
        return []
    for document in configs:
        _check_cr(document)
    if not alertmanagers:
        return [_build(None, configs, secrets)]
    return [_build(am, configs, secrets) for am in alertmanagers]


def _meta(document: Document) -> tuple[str, str, dict[str, str]]:
    metadata = document.data.get("metadata") or {}
    labels = metadata.get("labels") or {}
    return (
        str(metadata.get("namespace") or "default"),
        str(metadata.get("name") or ""),
        {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
    )


def _check_cr(document: Document) -> None:
    data = document.data
    unknown = sorted(str(key) for key in data if key not in _CR_KEYS)
    if unknown:
        # kubectl apply validates fields strictly: these keys are rejected, not silently ignored.
        raise PackError(
            f"unknown top-level field(s) {', '.join(unknown)} in AlertmanagerConfig (kubectl rejects them; "
            "labels belong under metadata, route and receivers under spec)",
            source=document.source,
            place=document.place((unknown[0],)),
        )
    if not (data.get("metadata") or {}).get("name"):
        raise PackError(
            "AlertmanagerConfig without metadata.name",
            source=document.source,
            place=document.place(("metadata",)),
        )
    spec = data.get("spec") or {}
    defined = {str(r.get("name")) for r in spec.get("receivers") or [] if isinstance(r, dict)}

    def check(route: Any, path: tuple[str | int, ...]) -> None:
        if not isinstance(route, dict):
            return
        receiver = route.get("receiver")
        if receiver and str(receiver) not in defined:
            raise PackError(
                f'route names receiver "{receiver}", which this AlertmanagerConfig does not define '
                "(the operator rejects the resource)",
                source=document.source,
                place=document.place((*path, "receiver")),
            )
        for index, child in enumerate(route.get("routes") or []):
            check(child, (*path, "routes", index))

    check(spec.get("route"), ("spec", "route"))


def _selected(am: Document | None, configs: list[Document], notes: list[str]) -> list[Document]:
    if am is None:
        notes.append("no Alertmanager resource in the pack: every AlertmanagerConfig is selected")
        return list(configs)
    am_ns, am_name, _ = _meta(am)
    spec = am.data.get("spec") or {}
    selector = spec.get("alertmanagerConfigSelector")
    ns_selector = spec.get("alertmanagerConfigNamespaceSelector")
    if ns_selector is not None:
        notes.append(
            f"Alertmanager {am_ns}/{am_name}: alertmanagerConfigNamespaceSelector is set; the pack has no "
            "Namespace objects, so AlertmanagerConfigs of every namespace are considered"
        )
    chosen = []
    for document in configs:
        namespace, name, labels = _meta(document)
        if ns_selector is None and namespace != am_ns:
            notes.append(
                f"AlertmanagerConfig {namespace}/{name} is not selected by Alertmanager {am_ns}/{am_name}: "
                f"it is in namespace {namespace}, the Alertmanager only looks in {am_ns}"
            )
            continue
        if selector is None:
            notes.append(
                f"AlertmanagerConfig {namespace}/{name} is not selected by Alertmanager {am_ns}/{am_name}: "
                "it has no alertmanagerConfigSelector, which selects nothing"
            )
            continue
        wanted = {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()}
        missing = {k: v for k, v in wanted.items() if labels.get(k) != v}
        unsupported = selector.get("matchExpressions")
        if unsupported:
            notes.append(
                f"Alertmanager {am_ns}/{am_name}: matchExpressions in alertmanagerConfigSelector are not "
                "evaluated; only matchLabels is"
            )
        if missing:
            have = ", ".join(f"{k}={v}" for k, v in labels.items()) or "none"
            want = ", ".join(f"{k}={v}" for k, v in wanted.items())
            notes.append(
                f"AlertmanagerConfig {namespace}/{name} is not selected by Alertmanager {am_ns}/{am_name}: "
                f"matchLabels {want}; its labels: {have}"
            )
            continue
        chosen.append(document)
    return chosen


def _base(am: Document | None, secrets: list[SecretDoc], notes: list[str]) -> tuple[dict[str, Any], str]:
    if am is not None:
        am_ns, am_name, _ = _meta(am)
        secret_name = str((am.data.get("spec") or {}).get("configSecret") or f"alertmanager-{am_name}")
        for secret in secrets:
            key = secret.alertmanager_key()
            if secret.namespace == am_ns and secret.name == secret_name and key:
                base = yaml.safe_load(secret.values[key]) or {}
                if isinstance(base, dict):
                    notes.append(f"base config from Secret {am_ns}/{secret_name}")
                    return base, f"Secret {am_ns}/{secret_name}"
        notes.append(f"no Secret {am_ns}/{secret_name} in the pack: the operator's default base config is used")
    return yaml.safe_load(yaml.safe_dump(DEFAULT_BASE)), "the operator's default"


def _strategy(am: Document | None) -> str:
    if am is None:
        return "OnNamespace"
    spec = am.data.get("spec") or {}
    return str((spec.get("alertmanagerConfigMatcherStrategy") or {}).get("type") or "OnNamespace")


def _build(am: Document | None, configs: list[Document], secrets: list[SecretDoc]) -> AlertmanagerSetup:
    context = _Context(secrets)
    selected = _selected(am, configs, context.notes)
    base, _ = _base(am, secrets, context.notes)
    strategy = _strategy(am)
    am_namespace = _meta(am)[0] if am is not None else ""
    base_route = base.setdefault("route", {})
    receivers = base.setdefault("receivers", [])
    names: dict[str, str] = {}
    sub_routes: list[dict[str, Any]] = []
    for document in sorted(selected, key=lambda d: "/".join(_meta(d)[:2])):
        namespace, name, _ = _meta(document)
        spec = document.data.get("spec") or {}
        scoped = strategy == "OnNamespace" or (
            strategy == "OnNamespaceExceptForAlertmanagerNamespace" and namespace != am_namespace
        )
        namespace_matcher = f"namespace={quote(namespace)}"
        for rule in spec.get("inhibitRules") or []:
            converted = _inhibit_rule(rule)
            if scoped:
                for side in ("source_matchers", "target_matchers"):
                    values = converted.setdefault(side, [])
                    if namespace_matcher.replace(" ", "") not in [v.replace(" ", "") for v in values]:
                        values.append(namespace_matcher)
            base.setdefault("inhibit_rules", []).append(converted)
        route = spec.get("route")
        if route is None:
            continue
        top = _route(route, namespace, name)
        if scoped:
            top.setdefault("matchers", []).append(namespace_matcher)
        top["continue"] = True
        sub_routes.append(top)
        for receiver in spec.get("receivers") or []:
            generated = f"{namespace}/{name}/{receiver.get('name')}"
            names[generated] = str(receiver.get("name"))
            receivers.append(_receiver(receiver, generated, namespace, f"{namespace}/{name}", context))
        for key in ("muteTimeIntervals", "timeIntervals"):
            for interval in spec.get(key) or []:
                converted_interval = _convert(interval, namespace, f"{namespace}/{name}", context)
                converted_interval["name"] = f"{namespace}/{name}/{interval.get('name')}"
                base.setdefault("mute_time_intervals", []).append(converted_interval)
    # The operator puts the AlertmanagerConfig routes first; with continue: true alerts fall through to the
    # base config's routes.
    base_route["routes"] = sub_routes + list(base_route.get("routes") or [])
    if strategy != "OnNamespace":
        context.notes.append(f"matcher strategy {strategy}")
    label = f"{_meta(am)[0]}/{_meta(am)[1]}" if am is not None else "operator"
    source = am.source if am is not None else (selected[0].source if selected else configs[0].source)
    return AlertmanagerSetup(
        form="operator",
        name=label,
        config=base,
        source=source,
        receiver_names=names,
        notes=tuple(context.notes),
        replicas=_replicas(am),
    )


def _replicas(am: Document | None) -> int | None:
    """The ``Alertmanager`` resource's ``spec.replicas`` (None: not set, or no resource)."""
    if am is None:
        return None
    value = (am.data.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _matcher_strings(matchers: Any) -> list[str]:
    result = []
    for matcher in matchers or []:
        name, value = str(matcher.get("name")), str(matcher.get("value", ""))
        op = matcher.get("matchType") or ("=~" if matcher.get("regex") else "=")
        result.append(f"{name}{op}{quote(value)}")
    return result


def _route(route: Mapping[str, Any], namespace: str, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if route.get("receiver"):
        out["receiver"] = f"{namespace}/{name}/{route['receiver']}"
    for camel in ("groupBy", "groupWait", "groupInterval", "repeatInterval"):
        if route.get(camel) not in (None, "", []):
            out[snake(camel)] = route[camel]
    matchers = _matcher_strings(route.get("matchers"))
    if matchers:
        out["matchers"] = matchers
    if route.get("continue"):
        out["continue"] = True
    for camel in ("muteTimeIntervals", "activeTimeIntervals"):
        if route.get(camel):
            out[snake(camel)] = [f"{namespace}/{name}/{item}" for item in route[camel]]
    children = [_route(child, namespace, name) for child in route.get("routes") or []]
    if children:
        out["routes"] = children
    return out


def _inhibit_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    source = _matcher_strings(rule.get("sourceMatch"))
    target = _matcher_strings(rule.get("targetMatch"))
    if source:
        out["source_matchers"] = source
    if target:
        out["target_matchers"] = target
    if rule.get("equal"):
        out["equal"] = list(rule["equal"])
    return out


def _receiver(raw: Mapping[str, Any], generated: str, namespace: str, cr: str, context: _Context) -> dict[str, Any]:
    out: dict[str, Any] = {"name": generated}
    for key, value in raw.items():
        if key == "name":
            continue
        target = _RECEIVER_KEYS.get(str(key)) or snake(str(key))
        out[target] = [_convert(item, namespace, cr, context) for item in value or []]
    return out


def _is_secret_ref(value: Any) -> bool:
    return isinstance(value, dict) and "key" in value and set(value) <= {"name", "key", "optional"}


def _convert(value: Any, namespace: str, cr: str, context: _Context, field_name: str = "") -> Any:
    """camelCase to snake_case all the way down, resolving Secret key references from the pack's Secrets."""
    if _is_secret_ref(value):
        return _resolve(value, namespace, cr, context, field_name)
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            target = snake(str(key))
            if key == "headers" and isinstance(item, list):  # [{key, value}] in the CRD, a map in Alertmanager
                out[target] = {str(h.get("key")): str(h.get("value")) for h in item if isinstance(h, dict)}
                continue
            out[target] = _convert(item, namespace, cr, context, target)
        return out
    if isinstance(value, list):
        return [_convert(item, namespace, cr, context, field_name) for item in value]
    return value


def _resolve(ref: Mapping[str, Any], namespace: str, cr: str, context: _Context, field_name: str) -> str:
    name, key = str(ref.get("name", "")), str(ref.get("key", ""))
    for secret in context.secrets:
        if secret.namespace == namespace and secret.name == name and key in secret.values:
            return secret.values[key].strip() if field_name in _URL_FIELDS else secret.values[key]
    context.notes.append(
        f"AlertmanagerConfig {cr}: {field_name or 'a field'} refers to Secret {namespace}/{name} "
        f"key {key!r}, "
        "which is not in the pack; a placeholder is used"
    )
    if field_name in _URL_FIELDS:
        return f"http://unresolved-secret.invalid/{namespace}/{name}/{key}"
    return f"<secret {namespace}/{name} key {key}>"
