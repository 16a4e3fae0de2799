"""kube-prometheus's rules as their project ships them, judged by the bundled ``kube-prometheus`` profile at the
static depths.

The pack is prometheus-operator/kube-prometheus ``manifests/*-prometheusRule.yaml`` and ``alertmanager-secret.yaml``
at 4d719f1dea88, the commit kube-prometheus-stack 88.5.3 syncs its default rules from
(``hack/sync_prometheus_rules.py``). It is never committed (see ``tests/data/kube-prometheus/README.md``): without
it both tests skip, saying where to put it.

Depths 1 to 3 judge the rule files unchanged: every documented alert passes but the findings the profile records
in its notes. Routing is another matter: the profile documents the chart's ``alertmanager.config`` (Helm values),
and the manifests ship kube-prometheus's own Alertmanager Secret, a different document, so depth 4 finds no
configuration of the documented form in the pack as shipped. The second test reads that Secret's configuration
into the chart's form with one change, the one the profile documents a user makes (the root receiver is the
user's, ``cluster-alerts``), and pins what depth 4 then finds: the settings and every other route agree with the
chart's; Watchdog has a receiver of its own instead of ``null``, and critical alerts a route to ``Critical``.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.profiles import load_profile

pytestmark = pytest.mark.needs_binaries("promtool", "amtool")

DATA = Path(__file__).parents[1] / "data" / "kube-prometheus"
PACK = DATA / "pack"
PROFILE = "kube-prometheus"
STATIC = ("contract", "syntax", "behaviour")

#: (alert, depth) that fails with the upstream pack, and the words its failure must say. Each is a finding the
#: profile's notes record with its evidence; an item that passes instead must leave this table.
FINDINGS: dict[tuple[str, str], str] = {
    # absent(up{job=...}): fires only once the targets leave discovery, not when none answers (the runbooks); a
    # stopped API server (discovery goes through it) and a stopped controller manager (it keeps the endpoints)
    # stay discovered. A stopped scheduler does leave discovery: KubeSchedulerDown passes.
    ("KubeAPIDown", "behaviour"): "never fires",
    ("KubeControllerManagerDown", "behaviour"): "never fires",
    # Chart defaults (kubernetes-mixin's kube-proxy group, etcd's own rules) that the manifests do not ship.
    **{("KubeProxyDown", depth): "no alerting rule named KubeProxyDown" for depth in STATIC},
    **{("etcdInsufficientMembers", depth): "no alerting rule named etcdInsufficientMembers" for depth in STATIC},
}

#: A test item of the suite: ``test_behaviour[kube-prometheus:KubePersistentVolumeFillingUp:critical]``,
#: ``test_routing[kube-prometheus:Watchdog:chart]``.
ITEM = re.compile(r"test_(?P<depth>contract|syntax|behaviour|routing)\[kube-prometheus:(?P<alert>.+?)(?::chart)?\]")

Outcomes = dict[tuple[str, str], tuple[bool, str]]


def _pack_present() -> None:
    if not any(PACK.glob("*-prometheusRule.yaml")) or not (PACK / "alertmanager-secret.yaml").is_file():
        pytest.skip(f"the kube-prometheus pack is not in {PACK} (never committed): see {DATA / 'README.md'}")


def _run(pytester: pytest.Pytester, pack: Path) -> Outcomes:
    """Each item's outcome, keyed by (alert as the item names it, depth): passed, and the failure's message."""
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        "--profile", PROFILE, f"--alert-pack={pack}", "-m", "static", "-p", "no:randomly", f"--junitxml={junit}"
    )
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), result.stdout.str()
    outcomes: Outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        item = ITEM.fullmatch(case.get("name", ""))
        if item is not None:
            failure = case.find("failure")
            message = "" if failure is None else failure.get("message", "")
            outcomes[(item["alert"], item["depth"])] = (failure is None, message)
    return outcomes


def _name(alert: str) -> str:
    """``KubePersistentVolumeFillingUp`` for the item name ``KubePersistentVolumeFillingUp:critical``."""
    return alert.split(":", maxsplit=1)[0]


def _severity(alert: str, severities: dict[str, str]) -> str:
    """The item's severity: its suffix where a name has several entries (``...FillingUp:critical``), else the
    profile's one severity for the name."""
    return alert.split(":")[1] if ":" in alert else severities[alert]


def test_upstream_rules_pass_the_documented_alerts_but_the_findings(pytester: pytest.Pytester) -> None:
    _pack_present()
    outcomes = _run(pytester, PACK)
    documented = {alert.name for alert in load_profile(PROFILE).alerts}
    assert {_name(alert) for alert, _ in outcomes} == documented, "an alert of the profile was not judged"
    wrong = []
    for (alert, depth), (passed, message) in sorted(outcomes.items()):
        if depth == "routing":
            # Nothing of the documented form to judge: the Secret is kube-prometheus's routing, not the chart's.
            if passed or "no Alertmanager configuration of form helm-values" not in message:
                wrong.append(f"{alert} routing: {message or 'passed'}")
            continue
        finding = FINDINGS.get((_name(alert), depth))
        if finding is None and not passed:
            wrong.append(f"{alert} {depth} fails: {message}")
        elif finding is not None and (passed or finding not in message):
            wrong.append(f"{alert} {depth}: {message or 'passes now: remove it from FINDINGS'} (expected: {finding})")
    assert not wrong, "\n".join(wrong)


def _as_chart_values(secret: Path, receiver: str) -> dict[str, Any]:
    """The Secret's Alertmanager configuration, unchanged but for its root receiver's name, as the chart's values."""
    config: dict[str, Any] = yaml.safe_load(yaml.safe_load(secret.read_text())["stringData"]["alertmanager.yaml"])
    root = config["route"]["receiver"]
    config["route"]["receiver"] = receiver
    for definition in config["receivers"]:
        if definition["name"] == root:
            definition["name"] = receiver
    return {"alertmanager": {"config": config}}


def test_upstream_routing_read_in_the_charts_form_differs_only_by_its_own_receivers(
    pytester: pytest.Pytester,
) -> None:
    _pack_present()
    (setup,) = load_profile(PROFILE).routing
    pack = pytester.path / "pack"
    pack.mkdir()
    for rules in PACK.glob("*-prometheusRule.yaml"):
        shutil.copy(rules, pack / rules.name)
    values = _as_chart_values(PACK / "alertmanager-secret.yaml", setup.receiver)
    (pack / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    outcomes = _run(pytester, pack)
    severities = {alert.name: alert.severity for alert in load_profile(PROFILE).alerts}
    wrong = []
    for (alert, depth), (passed, message) in sorted(outcomes.items()):
        name = _name(alert)
        if depth != "routing" or (name, "contract") in FINDINGS:  # an alert the pack lacks routes nothing
            continue
        severity = _severity(alert, severities)
        if name == "Watchdog":
            expected = "reaches Watchdog, not null"
        elif severity == "critical":
            expected = f"reaches Critical, not {setup.receiver}"
        else:
            expected = ""
        if expected and (passed or expected not in message):
            wrong.append(f"{alert}: {message or 'passed'} (expected: {expected})")
        elif not expected and not passed:
            wrong.append(f"{alert}: {message}")
    assert not wrong, "\n".join(wrong)
