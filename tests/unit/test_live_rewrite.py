"""Receivers re-pointed at the capture webhook, timers scaled, routes and inhibitions untouched."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.errors import RoutingConfigError
from conformance.routing.capture import capture_path, rewrite_config

CONFIG: dict[str, Any] = {
    "global": {"smtp_auth_password_file": "/etc/secret", "resolve_timeout": "10m"},
    "templates": ["/etc/am/*.tmpl"],
    "route": {
        "receiver": "null",
        "group_by": ["alertname"],
        "routes": [
            {"matchers": ["severity=critical"], "receiver": "pager", "group_wait": "10s", "continue": True},
            {
                "matchers": ["severity=warning"],
                "receiver": "mail",
                "routes": [{"receiver": "slack", "group_interval": "2m"}],
            },
        ],
    },
    "inhibit_rules": [
        {"source_matchers": ["severity=critical"], "target_matchers": ["severity=warning"], "equal": ["namespace"]}
    ],
    "receivers": [
        {"name": "null"},
        {"name": "pager", "pagerduty_configs": [{"routing_key": "x"}]},
        {"name": "mail", "email_configs": [{"to": "a@b"}]},
        {"name": "slack", "slack_configs": [{"channel": "#x", "send_resolved": True}], "email_configs": [{"to": "c"}]},
        {"name": "hook", "webhook_configs": [{"url": "http://x", "send_resolved": False}]},
        {"name": "ns/cfg/email", "email_configs": [{"to": "a@b", "send_resolved": True}]},
    ],
}


def test_every_receiver_becomes_one_capture_webhook() -> None:
    config, captured, rewrites = rewrite_config("helm", CONFIG, "http://127.0.0.1:9", 20)
    urls = {r["name"]: r["webhook_configs"] for r in config["receivers"]}
    assert all(
        len(hooks) == 1 and set(r) == {"name", "webhook_configs"}
        for r, hooks in zip(config["receivers"], urls.values(), strict=True)
    )
    assert urls["pager"][0]["url"] == "http://127.0.0.1:9/r/helm/pager"
    assert urls["ns/cfg/email"][0]["url"] == "http://127.0.0.1:9/r/helm/ns%2Fcfg%2Femail"
    resolved = {c.receiver: c.send_resolved for c in captured}
    # Alertmanager's defaults: PagerDuty true, email false; explicit values win; any integration counts.
    assert resolved == {"null": False, "pager": True, "mail": False, "slack": True, "hook": False, "ns/cfg/email": True}
    assert any(r.where == "receivers[pager]" and "pagerduty" in r.before for r in rewrites)


def test_routes_and_inhibitions_kept_timers_scaled() -> None:
    config, _, rewrites = rewrite_config("helm", CONFIG, "http://127.0.0.1:9", 20)
    route = config["route"]
    assert route["group_wait"] == "1s500ms"  # default 30s made explicit, then scaled
    assert route["group_interval"] == "15s"
    assert route["repeat_interval"] == "12m"
    assert route["routes"][0] == {
        "matchers": ["severity=critical"],
        "receiver": "pager",
        "group_wait": "500ms",
        "continue": True,
    }
    assert route["routes"][1]["routes"][0]["group_interval"] == "6s"
    assert config["inhibit_rules"] == CONFIG["inhibit_rules"]
    assert config["global"]["resolve_timeout"] == "30s"
    assert "templates" not in config and "smtp_auth_password_file" not in config["global"]
    assert {r.where for r in rewrites} >= {"templates", "global.smtp_auth_password_file", "route.group_wait"}
    assert CONFIG["route"].get("group_wait") is None  # the input is not modified


def test_config_without_receivers_is_named() -> None:
    with pytest.raises(RoutingConfigError, match=r"am\.yml: receivers: the Alertmanager config has no receivers"):
        rewrite_config("x", {"route": {"receiver": "a"}}, "http://h", 1, source="am.yml")


def test_capture_path_quotes() -> None:
    assert capture_path("monitoring/am", "a b") == "/r/monitoring%2Fam/a%20b"
