"""The Alertmanager webhook payload format, checked on every captured notification whatever the backend."""

from __future__ import annotations

from typing import Any

import jsonschema

_LABELS = {"type": "object", "additionalProperties": {"type": "string"}}

#: The Alertmanager webhook payload (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
WEBHOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "version",
        "groupKey",
        "status",
        "receiver",
        "groupLabels",
        "commonLabels",
        "commonAnnotations",
        "externalURL",
        "alerts",
    ],
    "properties": {
        "version": {"const": "4"},
        "groupKey": {"type": "string", "minLength": 1},
        "truncatedAlerts": {"type": "integer", "minimum": 0},
        "status": {"enum": ["firing", "resolved"]},
        "receiver": {"type": "string", "minLength": 1},
        "groupLabels": _LABELS,
        "commonLabels": _LABELS,
        "commonAnnotations": _LABELS,
        "externalURL": {"type": "string"},
        "alerts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["status", "labels", "annotations", "startsAt", "endsAt"],
                "properties": {
                    "status": {"enum": ["firing", "resolved"]},
                    "labels": {**_LABELS, "required": ["alertname"]},
                    "annotations": _LABELS,
                    "startsAt": {"type": "string", "minLength": 1},
                    "endsAt": {"type": "string"},
                    "generatorURL": {"type": "string"},
                    "fingerprint": {"type": "string"},
                },
            },
        },
    },
}

_VALIDATOR = jsonschema.Draft202012Validator(WEBHOOK_SCHEMA)


def payload_problems(payload: object) -> list[str]:
    """Every way ``payload`` breaks the Alertmanager webhook format, as ``path: message`` lines (empty: valid)."""
    problems = []
    for error in sorted(_VALIDATOR.iter_errors(payload), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(payload)"
        problems.append(f"{where}: {error.message}")
    return problems
