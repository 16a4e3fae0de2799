"""Effective notification settings on a route, and their comparison with what a document states."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest

from conformance.model.contract import SettingValue
from conformance.packs.loader import load_pack
from conformance.profiles import load_profile
from conformance.routing.settings import differences, integrations, route_settings
from conformance.static.routing_check import check_routing

CONFIG: dict[str, Any] = {
    "route": {
        "receiver": "null",
        "group_by": ["alertname"],
        "group_wait": "30s",
        "repeat_interval": "10m",
        "routes": [
            {"receiver": "hook", "matchers": ['team="a"'], "group_wait": "1h"},
            {"receiver": "hook", "group_by": ["alertname", "namespace"]},
        ],
    },
    "receivers": [
        {"name": "null"},
        {"name": "hook", "webhook_configs": [{"url": "http://a"}, {"url": "http://b", "send_resolved": False}]},
        {"name": "mail", "email_configs": [{"to": "x@example.com"}]},
    ],
}


def test_children_inherit_what_they_do_not_set_and_the_root_has_alertmanagers_defaults() -> None:
    assert route_settings(CONFIG, ()) == {
        "group_wait": 30.0,
        "group_interval": 300.0,
        "repeat_interval": 600.0,
        "group_by": ("alertname",),
    }
    assert route_settings(CONFIG, (0,))["group_wait"] == 3600.0
    assert route_settings(CONFIG, (1,))["group_by"] == ("alertname", "namespace")
    assert route_settings({"route": {"receiver": "x"}}, ())["repeat_interval"] == 4 * 3600.0


def test_send_resolved_is_per_integration_with_each_integrations_default() -> None:
    assert [(i.where, i.send_resolved) for i in integrations(CONFIG, "hook")] == [
        ("webhook_configs[0]", True),
        ("webhook_configs[1]", False),
    ]
    assert [i.send_resolved for i in integrations(CONFIG, "mail")] == [False]


def test_differences_name_the_setting_the_pack_value_and_the_documented_one() -> None:
    documented: dict[str, SettingValue] = {"group_wait": 30.0, "send_resolved": True, "group_by": ("alertname",)}
    assert differences(documented, CONFIG, (0,), "hook", "hook") == [
        "group_wait 1h, the document says 30s",
        "send_resolved false on hook (webhook_configs[1]), the document says true",
    ]
    assert differences(documented, CONFIG, (1,), "hook", "hook")[-1] == (
        "group_by [alertname, namespace], the document says [alertname]"
    )
    assert differences({"group_by": ("alertname",)}, CONFIG, (), "null", "null") == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"group_wait": "1h"}, "group_wait 1h, the document says 30s (routes[0])"),
        ({"repeat_interval": "4h"}, "repeat_interval 4h, the document says 10m (routes[0])"),
        ({"group_by": ["alertname", "node"]}, "group_by [alertname, node], the document says [alertname] (routes[0])"),
    ],
)
def test_depth_4_holds_each_alert_to_the_documented_settings_of_its_route(change: dict[str, Any], problem: str) -> None:
    profile = load_profile("runai")
    reference = load_pack(profile.pack_path)
    setup = reference.setup("helm-values")
    assert setup is not None
    config = copy.deepcopy(setup.config)
    config["route"]["routes"][0].update(change)
    pack = replace(reference, setups=tuple(replace(s, config=config) if s is setup else s for s in reference.setups))
    alert = profile.alert("RunaiCpuUsageWarning")
    before = check_routing([alert], profile.routing, reference, {}, {}, amtool=None)
    after = check_routing([alert], profile.routing, pack, {}, {}, amtool=None)
    assert before[(alert.key, "webhook")].problems == []
    assert after[(alert.key, "webhook")].problems == [problem]
    assert after[(alert.key, "email")].problems == []


def _heartbeat_pack(config: dict[str, Any]) -> tuple[Any, Any]:
    """The ``silences`` example profile's Heartbeat, documented to notify nobody, against ``config``."""
    from pathlib import Path

    from conformance.packs.model import AlertmanagerSetup

    example = Path(__file__).resolve().parents[1] / "data" / "profiles" / "good" / "silences.yaml"
    profile = load_profile(str(example))
    setup = AlertmanagerSetup("file", "alertmanager.yaml", config, "alertmanager.yaml")
    return profile, replace(load_pack(profile.pack_path), setups=(setup,))


NULL_ROUTING: dict[str, Any] = {
    "route": {"receiver": "pager", "routes": [{"receiver": "null", "matchers": ['alertname = "Heartbeat"']}]},
    "receivers": [{"name": "pager", "webhook_configs": [{"url": "http://pager"}]}, {"name": "null"}],
}


def test_depth_4_holds_an_alert_documented_to_notify_nobody_to_receivers_without_integration() -> None:
    profile, pack = _heartbeat_pack(NULL_ROUTING)
    heartbeat = profile.alert("Heartbeat")
    assert check_routing([heartbeat], profile.routing, pack, {}, {}, amtool=None)[(heartbeat.key, "default")].ok
    loud = copy.deepcopy(NULL_ROUTING)
    loud["receivers"][1]["email_configs"] = [{"to": "oncall@example.com"}]
    profile, pack = _heartbeat_pack(loud)
    result = check_routing([heartbeat], profile.routing, pack, {}, {}, amtool=None)[(heartbeat.key, "default")]
    assert result.problems == [
        '{alertname="Heartbeat", severity="info"} reaches null (email), although the document says this alert '
        "notifies nobody"
    ]


def test_depth_4_notes_an_alert_that_must_notify_but_reaches_a_receiver_without_integration() -> None:
    """A note, not a failure: kube-prometheus ships its receivers empty, for its users to fill in."""
    quiet = copy.deepcopy(NULL_ROUTING)
    del quiet["receivers"][0]["webhook_configs"]
    profile, pack = _heartbeat_pack(quiet)
    api = profile.alert("ApiDown")
    result = check_routing([api], profile.routing, pack, {}, {}, amtool=None)[(api.key, "default")]
    assert result.problems == []
    assert result.notes == ["reaches pager, which has no integration in this pack: nobody is notified until one is set"]


def test_depth_4_names_a_documented_receiver_the_pack_does_not_define() -> None:
    profile, pack = _heartbeat_pack(NULL_ROUTING)
    api = replace(profile.alert("ApiDown"), receivers={"default": "oncall"})
    result = check_routing([api], profile.routing, pack, {}, {}, amtool=None)[(api.key, "default")]
    assert result.problems == [
        "the documented receiver oncall is not defined in alertmanager.yaml (its receivers: pager, null)"
    ]


def test_depth_4_notes_the_inhibit_rules_that_can_mute_an_alert() -> None:
    """kube-prometheus's InfoInhibitor mutes info alerts on their own: routing delivers them, Alertmanager drops."""
    muted = copy.deepcopy(NULL_ROUTING)
    muted["inhibit_rules"] = [
        {
            "source_matchers": ["alertname = InfoInhibitor"],
            "target_matchers": ["severity = critical"],
            "equal": ["namespace"],
        }
    ]
    profile, pack = _heartbeat_pack(muted)
    api = profile.alert("ApiDown")
    result = check_routing([api], profile.routing, pack, {}, {}, amtool=None)[(api.key, "default")]
    assert result.problems == []
    assert result.notes == [
        "inhibit_rules[0] mutes it while an alert matching {alertname='InfoInhibitor'} fires with the same namespace"
    ]
