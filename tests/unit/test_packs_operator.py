"""The config the Prometheus Operator generates from AlertmanagerConfig resources (see amcfg.go)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from conformance.errors import PackError
from conformance.packs.loader import load_pack
from conformance.packs.model import AlertmanagerSetup
from conformance.routing import explain_route, route_alert

RULES = """
groups:
- name: g
  rules:
  - alert: RunaiX
    expr: up == 0
    labels: {severity: critical}
"""


def amconfig(name: str, namespace: str, route: str = "", labels: str = "{}", extra: str = "") -> str:
    return f"""
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
spec:
  route:
    receiver: hook
{route}
  receivers:
  - name: hook
    webhookConfigs: [{{url: "http://127.0.0.1:9/{name}"}}]
{extra}
"""


def operator_setup(tmp_path: Path, *documents: str) -> AlertmanagerSetup:
    (tmp_path / "pack.yaml").write_text("\n---\n".join([RULES, *documents]))
    setup = load_pack(tmp_path / "pack.yaml").setup("operator")
    assert setup is not None
    return setup


def test_generated_names_namespace_matcher_and_continue(tmp_path: Path) -> None:
    route = "    continue: false\n    matchers: [{name: alertname, value: 'Runai.*', regex: true}]"
    setup = operator_setup(tmp_path, amconfig("runai", "runai", route))
    top = setup.config["route"]["routes"][0]
    assert top["receiver"] == "runai/runai/hook"
    # the operator appends its namespace matcher after the resource's own, and forces continue: true
    assert top["matchers"] == ['alertname=~"Runai.*"', 'namespace="runai"']
    assert top["continue"] is True
    assert setup.config["route"]["receiver"] == "null"
    assert [r["name"] for r in setup.config["receivers"]] == ["null", "runai/runai/hook"]
    assert setup.receiver_names == {"runai/runai/hook": "hook"}
    assert setup.written_name("runai/runai/hook") == "hook"


def test_camel_case_fields_and_resolved_secret(tmp_path: Path) -> None:
    route = "    groupBy: [alertname]\n    groupWait: 30s\n    groupInterval: 5m\n    repeatInterval: 1h"
    receivers = """
  - name: email
    emailConfigs:
    - to: a@example.com
      from: b@example.com
      smarthost: smtp.example.com:587
      authUsername: b@example.com
      authPassword: {name: smtp, key: password}
      requireTLS: true
      sendResolved: true
      headers: [{key: Subject, value: Alert}]
"""
    secret = base64.b64encode(b"s3cret").decode()
    setup = operator_setup(
        tmp_path,
        amconfig("runai", "runai", route, extra=receivers),
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: smtp, namespace: runai}}\ndata: {{password: {secret}}}",
    )
    top = setup.config["route"]["routes"][0]
    assert (top["group_by"], top["group_wait"], top["group_interval"], top["repeat_interval"]) == (
        ["alertname"],
        "30s",
        "5m",
        "1h",
    )
    email = setup.config["receivers"][-1]
    assert email["name"] == "runai/runai/email"
    assert email["email_configs"][0] == {
        "to": "a@example.com",
        "from": "b@example.com",
        "smarthost": "smtp.example.com:587",
        "auth_username": "b@example.com",
        "auth_password": "s3cret",
        "require_tls": True,
        "send_resolved": True,
        "headers": {"Subject": "Alert"},
    }


def test_unresolved_secret_is_a_placeholder_with_a_note(tmp_path: Path) -> None:
    receivers = "  - name: slack\n    slackConfigs: [{apiURL: {name: slack, key: url}, channel: '#a'}]"
    setup = operator_setup(tmp_path, amconfig("a", "ns", extra=receivers))
    assert setup.config["receivers"][-1]["slack_configs"][0]["api_url"].startswith("http://unresolved-secret.invalid/")
    assert any("Secret ns/slack key 'url'" in note and "placeholder" in note for note in setup.notes)


def test_resources_in_namespace_name_order_before_base_routes(tmp_path: Path) -> None:
    base = "route: {receiver: base, routes: [{receiver: base, matchers: ['x=\"1\"']}]}\nreceivers: [{name: base}]\n"
    encoded = base64.b64encode(base.encode()).decode()
    am = (
        "apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: main, namespace: mon}\n"
        "spec:\n  alertmanagerConfigSelector: {}\n  alertmanagerConfigNamespaceSelector: {}\n"
    )
    secret = (
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: alertmanager-main, namespace: mon}}\n"
        f"data: {{alertmanager.yaml: {encoded}}}"
    )
    setup = operator_setup(tmp_path, amconfig("z", "b"), amconfig("y", "a"), amconfig("a", "b"), am, secret)
    receivers = [route["receiver"] for route in setup.config["route"]["routes"]]
    assert receivers == ["a/y/hook", "b/a/hook", "b/z/hook", "base"]
    assert setup.config["route"]["receiver"] == "base"
    assert route_alert(setup.config, {"namespace": "b", "x": "1"})[-1].receiver == "base"
    assert [m.receiver for m in route_alert(setup.config, {"namespace": "b"})] == ["b/a/hook", "b/z/hook"]


def test_alertmanager_selector_decides_which_configs_count(tmp_path: Path) -> None:
    am = (
        "apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\n"
        "metadata: {name: runai, namespace: runai}\n"
        "spec:\n  alertmanagerConfigSelector:\n    matchLabels: {alertmanagerConfig: runai}\n"
    )
    setup = operator_setup(
        tmp_path,
        amconfig("chosen", "runai", labels="{alertmanagerConfig: runai}"),
        amconfig("unlabelled", "runai"),
        amconfig("elsewhere", "other", labels="{alertmanagerConfig: runai}"),
        am,
    )
    assert [r["receiver"] for r in setup.config["route"]["routes"]] == ["runai/chosen/hook"]
    notes = " | ".join(setup.notes)
    assert "AlertmanagerConfig runai/unlabelled is not selected by Alertmanager runai/runai: matchLabels" in notes
    assert "AlertmanagerConfig other/elsewhere is not selected" in notes
    assert setup.name == "runai/runai"


def test_absent_selector_selects_nothing(tmp_path: Path) -> None:
    am = "apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: m, namespace: runai}\n"
    setup = operator_setup(tmp_path, amconfig("a", "runai"), am)
    assert setup.config["route"].get("routes") == []
    assert any("no alertmanagerConfigSelector, which selects nothing" in note for note in setup.notes)


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        # resources in namespace/name order: mon/b, then other/a
        ("None", [['x="1"'], []]),
        ("OnNamespaceExceptForAlertmanagerNamespace", [['x="1"'], ['namespace="other"']]),
        ("OnNamespace", [['x="1"', 'namespace="mon"'], ['namespace="other"']]),
    ],
)
def test_matcher_strategy(tmp_path: Path, strategy: str, expected: list[list[str]]) -> None:
    am = (
        "apiVersion: monitoring.coreos.com/v1\nkind: Alertmanager\nmetadata: {name: m, namespace: mon}\n"
        f"spec:\n  alertmanagerConfigSelector: {{}}\n  alertmanagerConfigNamespaceSelector: {{}}\n"
        f"  alertmanagerConfigMatcherStrategy: {{type: {strategy}}}\n"
    )
    route = "    matchers: [{name: x, value: '1'}]"
    setup = operator_setup(tmp_path, amconfig("a", "other"), amconfig("b", "mon", route), am)
    assert [r.get("matchers", []) for r in setup.config["route"]["routes"]] == expected


def test_inhibit_rules_are_scoped_to_the_namespace(tmp_path: Path) -> None:
    extra = (
        "  inhibitRules:\n  - sourceMatch: [{name: severity, value: critical}]\n"
        "    targetMatch: [{name: severity, value: warning, matchType: '='}]\n    equal: [alertname]"
    )
    setup = operator_setup(tmp_path, amconfig("a", "ns", extra=extra))
    assert setup.config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"', 'namespace="ns"'],
            "target_matchers": ['severity="warning"', 'namespace="ns"'],
            "equal": ["alertname"],
        }
    ]


def test_runai_example_explains_the_namespace_scoping() -> None:
    pack = load_pack(Path(__file__).resolve().parents[1] / "data" / "packs" / "good" / "operator" / "runai-email")
    setup = pack.setup("operator")
    assert setup is not None
    line = explain_route(
        setup.config,
        {"alertname": "RunaiAgentClusterInfoPushRateLow", "namespace": "monitoring"},
        "runai/runai/email",
    )
    assert "(added by the Prometheus Operator for AlertmanagerConfig runai/runai)" in line
    assert line.endswith('the alert has namespace="monitoring"')


def test_route_to_receiver_missing_from_the_resource_is_refused(tmp_path: Path) -> None:
    bad = amconfig("a", "ns", "    routes: [{receiver: nope}]")
    with pytest.raises(
        PackError,
        match=r'pack.yaml: line \d+ \(spec.route.routes\[0\].receiver\): route names receiver "nope"',
    ):
        operator_setup(tmp_path, bad)
