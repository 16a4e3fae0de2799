"""Which scenario run an alert instance belongs to, by the labels depth 3 predicted for it.

All scenarios of a profile run at once, each on its own target, so an alert instance (in Prometheus, in
Alertmanager or in a notification) belongs to the run of the same alert whose predicted label set it carries.
A run without predicted labels claims every instance of its alert name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from conformance.backends.base import ScenarioRun

#: Labels a real stack adds outside the rules (external labels); never required to match.
IGNORED_LABELS = frozenset({"prometheus", "prometheus_replica", "cluster", "receive", "tenant_id"})


class HasRun(Protocol):
    @property
    def run(self) -> ScenarioRun: ...


T = TypeVar("T", bound=HasRun)


def labels_match(predicted: Mapping[str, str], actual: Mapping[str, str]) -> bool:
    """Every predicted label (external labels aside) has the same value in ``actual``."""
    return all(actual.get(key) == value for key, value in predicted.items() if key not in IGNORED_LABELS)


def claims(run: ScenarioRun, labels: Mapping[str, str]) -> bool:
    """Whether the alert instance with ``labels`` belongs to ``run``."""
    if labels.get("alertname") != run.alert.name:
        return False
    severity = labels.get("severity")
    if severity is not None and severity != run.alert.severity:
        return False
    predicted = run.prediction.labels
    if not predicted:
        return True
    return any(labels_match(p, labels) for p in predicted)


def owners(items: Sequence[T], labels: Mapping[str, str]) -> list[T]:
    """The items (run states) whose run claims the instance with ``labels``."""
    return [item for item in items if claims(item.run, labels)]
