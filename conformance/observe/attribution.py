"""Which scenario run an alert instance belongs to, by the labels depth 3 predicted for it.

All scenarios of a profile run at once, each on its own target, so an alert instance (in Prometheus, in
Alertmanager or in a notification) belongs to the run of the same alert whose predicted label set it carries.
A run without predicted labels claims every instance of its alert name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Protocol, TypeVar

from conformance.model.run import ScenarioRun

#: Labels a real stack adds outside the rules (external labels); never required to match.
IGNORED_LABELS = frozenset({"prometheus", "prometheus_replica", "cluster", "receive", "tenant_id"})


class HasRun(Protocol):
    @property
    def run(self) -> ScenarioRun: ...


T = TypeVar("T", bound=HasRun)


#: Labels whose values Kubernetes generates anew for each object (a pod's IP and uid, a container's id): they
#: differ between depth 3 and a live run for the same scenario, so they never decide attribution.
GENERATED_LABELS = frozenset({"instance", "uid", "id", "container_id", "pod_ip", "ip", "host_ip"})

# Generated name suffixes: a CronJob's Job is named after its scheduled minute (``backup-28333349``), a
# Deployment's pod after its ReplicaSet hash and a random suffix, a DaemonSet's or Job's pod after a random one.
_JOB_MINUTE = re.compile(r"-\d{6,}$")
_POD_SUFFIX = re.compile(r"(-[0-9a-z]{6,10})?-[0-9a-z]{5}$")


def _stem(key: str, value: str) -> str:
    """The part of a generated name that identifies the object's owner (``pod`` and ``job_name`` labels)."""
    if key == "job_name":
        return _JOB_MINUTE.sub("", value)
    if key == "pod":
        return _POD_SUFFIX.sub("", _JOB_MINUTE.sub("", value)) if any(c.isdigit() for c in value[-5:]) else value
    return value


def labels_match(predicted: Mapping[str, str], actual: Mapping[str, str]) -> bool:
    """Every predicted label (external and generated labels aside) has the same value, or for generated names
    the same owner, in ``actual``."""
    return all(
        key in actual and _stem(key, actual[key]) == _stem(key, value)
        for key, value in predicted.items()
        if key not in IGNORED_LABELS and key not in GENERATED_LABELS
    )


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
    """The items (run states) whose run claims the instance with ``labels``. A run that depth 3 predicted with
    labels is more specific than one without (a scenario documented to stay silent, which never fired there):
    when both claim an instance, it is the labelled run's (the silent run's sibling fired it, not its fault)."""
    found = [item for item in items if claims(item.run, labels)]
    specific = [item for item in found if item.run.prediction.labels]
    return specific or found


def instance_key(run: ScenarioRun, labels: Mapping[str, str]) -> str:
    """What identifies one alert instance of ``run``: its values of the predicted label names (external labels
    aside), raw, so two pods of one deployment stay two instances while the same alert sent by two Prometheus
    replicas with a label only one of them would add (a value differing per replica) is the same instance."""
    keys: set[str] = set()
    for predicted in run.prediction.labels:
        if labels_match(predicted, labels):
            keys |= set(predicted)
    if not keys:
        keys = set(labels)
    return ",".join(f'{key}="{labels[key]}"' for key in sorted(keys - IGNORED_LABELS) if key in labels)
