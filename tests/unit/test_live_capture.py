"""The capture webhook records notifications per receiver path and validates the Alertmanager format."""

from __future__ import annotations

from typing import Any

import requests

from conformance.observe.payload import payload_problems
from conformance.twin.capture import CaptureServer


def payload(**override: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "version": "4",
        "groupKey": '{}:{alertname="A"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "team",
        "groupLabels": {"alertname": "A"},
        "commonLabels": {"alertname": "A"},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "A"},
                "annotations": {},
                "startsAt": "2024-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }
    body.update(override)
    return body


def test_valid_payload_has_no_problems() -> None:
    assert payload_problems(payload()) == []


def test_problems_name_the_place() -> None:
    bad = payload(version="3", alerts=[{"status": "firing", "labels": {}}])
    problems = payload_problems(bad)
    assert any(p.startswith("version:") for p in problems)
    assert any(p.startswith("alerts/0:") and "startsAt" in p for p in problems)
    assert any(p.startswith("alerts/0/labels:") and "alertname" in p for p in problems)


def test_server_records_receiver_time_and_payload() -> None:
    ticks = iter([5.0, 7.5, 9.0])
    with CaptureServer(clock=lambda: next(ticks)) as server:
        requests.post(f"{server.base_url}/r/helm/team", json=payload(), timeout=5).raise_for_status()
        requests.post(
            f"{server.base_url}/r/ops%2Fcfg/ns%2Fx%2Fteam", json=payload(receiver="ns/x/team"), timeout=5
        ).raise_for_status()
        wrong = requests.post(f"{server.base_url}/elsewhere", json=payload(), timeout=5)
        records = server.records()
        rejected = server.rejected()
    assert wrong.status_code == 404 and len(rejected) == 1
    assert [(r.setup, r.receiver, r.notification.at_s, r.problems) for r in records] == [
        ("helm", "team", 5.0, []),
        ("ops/cfg", "ns/x/team", 7.5, []),
    ]
    assert records[0].notification.status == "firing"
    assert records[0].notification.alerts[0]["labels"] == {"alertname": "A"}


def test_payload_for_another_receiver_is_a_problem() -> None:
    with CaptureServer() as server:
        requests.post(f"{server.base_url}/r/helm/team", json=payload(receiver="other"), timeout=5)
        (record,) = server.records()
    assert record.problems == ["receiver: payload names 'other', posted to 'team'"]
