"""The four bundled profiles against their own reference packs: every documented alert is in the pack with its
severity and `for`, routes to the documented receiver of every set-up, and every scenario has its own target.

These are checks of the project's data (profiles and packs), not of the engine: they fail when someone edits a
profile or a pack so that the two no longer agree.
"""

from __future__ import annotations

from collections import Counter

import pytest

from conformance.model.profile import Profile
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack, Rule
from conformance.profiles import bundled_profile_names, load_profile
from conformance.routing import route_alert
from conformance.static.contract import expression_hold_s

PROFILES = ["aistore", "kube-prometheus", "mlops", "runai", "seldon"]


def _pair(name: str) -> tuple[Profile, Pack]:
    profile = load_profile(name)
    return profile, load_pack(profile.pack_path)


def _rule(pack: Pack, name: str, severity: str) -> Rule:
    rules = [rule for rule in pack.rules_named(name) if rule.severity == severity]
    assert len(rules) == 1, f"{name}[{severity}]: {len(rules)} rules in the reference pack"
    return rules[0]


def _receivers(pack: Pack, form: str, labels: dict[str, str]) -> list[str]:
    setup = pack.setup(form)  # type: ignore[arg-type]
    assert setup is not None, f"the reference pack has no {form} set-up"
    return [setup.written_name(match.receiver) for match in route_alert(setup.config, labels)]


def test_the_bundled_profiles_are_covered() -> None:
    assert bundled_profile_names() == PROFILES


@pytest.mark.parametrize("name", PROFILES)
def test_every_documented_alert_is_in_the_reference_pack_as_documented(name: str) -> None:
    profile, pack = _pair(name)
    for alert in profile.alerts:
        rule = _rule(pack, alert.name, alert.severity)
        # A hold written in the expression (an age, min_over_time) stands for part of the documented for.
        held = rule.for_s + expression_hold_s(rule.expr)
        assert alert.for_.seconds in (rule.for_s, held), (
            f"{alert.key}: for {rule.for_s}s, contract {alert.for_.seconds}s"
        )
        assert rule.annotations.get("summary") or rule.annotations.get("description"), alert.key
    documented = {(alert.name, alert.severity) for alert in profile.alerts}
    extra = [
        f"{rule.alert}[{rule.severity}]"
        for rule in pack.alerting_rules
        if (rule.alert, rule.severity) not in documented
    ]
    assert extra == [], f"rules in the pack that the profile does not document: {extra}"


@pytest.mark.parametrize("name", PROFILES)
def test_every_documented_alert_routes_to_its_receiver_in_every_setup(name: str) -> None:
    profile, pack = _pair(name)
    for alert in profile.alerts:
        rule = _rule(pack, alert.name, alert.severity)
        labels = {**rule.labels, "alertname": alert.name}
        for setup in profile.routing:
            reached = _receivers(pack, setup.form, labels)
            assert alert.receivers[setup.name] in reached, f"{alert.key} via {setup.name} reaches {reached}"


@pytest.mark.parametrize("name", PROFILES)
def test_every_scenario_has_its_own_target(name: str) -> None:
    # The live twin runs every scenario of a profile at once and attributes notifications by labels: two
    # scenarios with the same fault on the same target would be indistinguishable (or fight over one level). A
    # fault with no declared target (ksm-list-errors) names what it hits in its params.
    profile = load_profile(name)
    pairs = Counter(
        (s.fault, s.target, tuple(sorted(s.params.items()))) for alert in profile.alerts for s in alert.scenarios
    )
    assert [pair for pair, count in pairs.items() if count > 1] == []


@pytest.mark.parametrize("name", PROFILES)
def test_documented_numbers_quote_their_source(name: str) -> None:
    profile = load_profile(name)
    for alert in profile.alerts:
        assert alert.source.seed in profile.seeds, alert.key
        assert alert.source.quote.strip(), alert.key
        chosen = [alert.for_] + ([alert.window] if alert.window else [])
        for duration in chosen:
            if not duration.documented:
                assert duration.note, f"{alert.key}: an undocumented duration needs a note saying it is a choice"
        if alert.threshold is not None and not alert.threshold.documented:
            assert alert.threshold.note, f"{alert.key}: an undocumented threshold needs a note"


def test_runai_sends_every_alert_to_email_only_with_namespace_runai() -> None:
    # The Prometheus Operator scopes the AlertmanagerConfig route to namespace runai: the same labels without
    # that namespace must not reach the email receiver (this is what the reference pack's rule labels are for).
    _, pack = _pair("runai")
    for rule in pack.alerting_rules:
        assert rule.labels.get("namespace") == "runai", rule.alert
        labels = {**rule.labels, "alertname": str(rule.alert), "namespace": "monitoring"}
        assert "email" not in _receivers(pack, "operator", labels)


def test_aistore_reference_pack_is_the_published_rule() -> None:
    _, pack = _pair("aistore")
    rule = _rule(pack, "AIStorePodRestartingFrequently", "warning")
    assert rule.expr == 'rate(kube_pod_container_status_restarts_total{namespace="ais-namespace"}[15m]) > 0.2'
    assert [group.name for group in pack.groups] == ["ais.rules"]


def test_kube_prometheus_keeps_the_charts_routing_with_a_users_root_receiver() -> None:
    # kube-prometheus-stack's default config sends everything to `null` (no integration); the reference pack keeps
    # the chart's routes and inhibit rules and changes only what a user must: the root receiver, and a route that
    # keeps InfoInhibitor on `null` as its runbook asks.
    profile, pack = _pair("kube-prometheus")
    for name in ("Watchdog", "InfoInhibitor"):
        assert _receivers(pack, "helm-values", {"alertname": name, "severity": "none"}) == ["null"]
    reached = _receivers(pack, "helm-values", {"alertname": "KubeAPIDown", "severity": "critical"})
    assert reached == [profile.routing[0].receiver] == ["cluster-alerts"]
    setup = pack.setup("helm-values")
    assert setup is not None
    assert len(setup.config["inhibit_rules"]) == 4
    assert setup.config["route"]["group_by"] == ["namespace"]
