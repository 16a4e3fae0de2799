"""Routing like Alertmanager: the Seldon and Run:ai configs of the seeds, continue, nesting, inheritance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.routing import route_alert

ROUTING = Path(__file__).resolve().parents[1] / "data" / "packs" / "routing"


def load(name: str) -> dict[str, Any]:
    """A routing config of tests/data/packs/routing (seldon: seed 003; runai: seed 000 webhook values with the
    email AlertmanagerConfig merged in by the operator; nested: continue, nesting and inheritance)."""
    data: dict[str, Any] = yaml.safe_load((ROUTING / f"{name}.yml").read_text())
    return data


SELDON = load("seldon")
RUNAI = load("runai")


def receivers(config: dict[str, Any], labels: dict[str, str]) -> list[str]:
    return [match.receiver for match in route_alert(config, labels)]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "warning", "type": "user"}, ["deploy-webhook"]),
        ({"severity": "critical", "type": "infra"}, ["deploy-webhook"]),
        ({"severity": "critical", "type": "drift"}, ["default-receiver"]),
        ({"severity": "info", "type": "user"}, ["default-receiver"]),
        ({"severity": "critical"}, ["default-receiver"]),
        ({"severity": "Critical", "type": "user"}, ["default-receiver"]),
        ({}, ["default-receiver"]),
    ],
)
def test_seldon_routes(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers(SELDON, labels) == expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (
            {"alertname": "RunaiNodeLowMemory", "namespace": "runai"},
            ["runai/runai/email", "webhook-notifications"],
        ),
        ({"alertname": "RunaiNodeLowMemory", "namespace": "monitoring"}, ["webhook-notifications"]),
        ({"alertname": "KubePodCrashLooping", "namespace": "runai"}, ["webhook-notifications"]),
    ],
)
def test_runai_routes(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers(RUNAI, labels) == expected


def test_route_match_carries_path_and_matchers() -> None:
    first, second = route_alert(RUNAI, {"alertname": "RunaiX", "namespace": "runai"})
    assert first.path == (0,) and first.route_name == "routes[0]"
    assert first.matchers == '{alertname=~"Runai.*", namespace="runai"}'
    assert second.path == (1,) and second.matchers == "{}"


NESTED = load("nested")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # a matching child delivers; the parent's receiver is inherited when a route has none
        ({"team": "a", "severity": "critical"}, ["a-pager"]),
        # a matching route none of whose children match delivers itself, with the inherited receiver
        ({"team": "a", "severity": "warning"}, ["root"]),
        # continue: true lets the search go on to later siblings
        ({"audit": "yes"}, ["audit", "catch-all"]),
        ({"team": "b"}, ["catch-all"]),
    ],
)
def test_nested_routes_continue_and_inheritance(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers(NESTED, labels) == expected
