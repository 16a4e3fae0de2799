"""The one-line explanation users read when an alert misses its documented receiver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conformance.routing import explain_route

ROUTING = Path(__file__).resolve().parents[1] / "data" / "packs" / "routing"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROUTING / f"{name}.yml").read_text())
    return data


SELDON, RUNAI, NESTED = load("seldon"), load("runai"), load("nested")


def test_operator_namespace_matcher_is_named_with_its_origin() -> None:
    line = explain_route(RUNAI, {"alertname": "RunaiNodeLowMemory", "namespace": "monitoring"}, "runai/runai/email")
    assert line == (
        'route routes[0] to "runai/runai/email" requires namespace="runai" '
        "(added by the Prometheus Operator for AlertmanagerConfig runai/runai); "
        'the alert has namespace="monitoring"'
    )


def test_missing_label_is_said_to_be_missing() -> None:
    line = explain_route(RUNAI, {"alertname": "RunaiNodeLowMemory"}, "runai/runai/email")
    assert line.endswith("the alert has no namespace label")


def test_all_failing_matchers_are_listed() -> None:
    line = explain_route(SELDON, {"severity": "info", "type": "drift"}, "deploy-webhook")
    assert line == (
        'route routes[0] to "deploy-webhook" requires severity=~"warning|critical" and type=~"user|infra"; '
        'the alert has severity="info" and type="drift"'
    )


def test_earlier_route_without_continue() -> None:
    config: dict[str, Any] = {
        "route": {
            "receiver": "x",
            "routes": [{"receiver": "X", "matchers": ['team="a"']}, {"receiver": "Y"}],
        },
        "receivers": [{"name": "x"}, {"name": "X"}, {"name": "Y"}],
    }
    line = explain_route(config, {"team": "a"}, "Y")
    assert line == (
        'an earlier route routes[0] (receiver "X") matched without continue: true, so routes[1] to "Y" is never tried'
    )


def test_child_route_takes_the_alert() -> None:
    config: dict[str, Any] = {
        "route": {
            "receiver": "root",
            "routes": [{"receiver": "team", "matchers": ['team="a"'], "routes": [{"receiver": "pager"}]}],
        },
        "receivers": [{"name": "root"}, {"name": "team"}, {"name": "pager"}],
    }
    line = explain_route(config, {"team": "a"}, "team")
    assert line.startswith('route routes[0] to "team" matches, but its child route routes[0].routes[0]')


def test_ancestor_that_fails_is_named() -> None:
    line = explain_route(NESTED, {"team": "b", "severity": "critical"}, "a-pager")
    assert line == (
        'route routes[0] (on the way to routes[0].routes[0] to "a-pager") requires team="a"; the alert has team="b"'
    )


def test_reached_and_undefined_receivers() -> None:
    assert explain_route(SELDON, {"severity": "warning", "type": "user"}, "deploy-webhook") == (
        '"deploy-webhook" is reached through routes[0]'
    )
    line = explain_route(SELDON, {}, "pagerduty")
    assert line.startswith('receiver "pagerduty" is not defined (defined: default-receiver, deploy-webhook)')
    assert line.endswith('the alert reaches "default-receiver" (the root route)')
