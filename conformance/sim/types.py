"""The values the simulated cluster hands out: samples, series keys and scrape targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

Labels = dict[str, str]
SeriesKey = tuple[tuple[str, str], ...]
"""A stored series' identity: its sorted ``(label, value)`` pairs, ``__name__`` included."""


class Sample(NamedTuple):
    """One exposed sample: metric name, its own labels (not the target's), value."""

    name: str
    labels: Labels
    value: float


def series_key(name: str, labels: Mapping[str, str]) -> SeriesKey:
    """The hashable, sorted identity of a series, as Prometheus stores it (empty label values dropped)."""
    pairs = [(k, v) for k, v in labels.items() if v != "" and k != "__name__"]
    pairs.append(("__name__", name))
    return tuple(sorted(pairs))


@dataclass(frozen=True)
class ScrapeTarget:
    """A scrape target as Prometheus sees it after kube-prometheus-stack's ServiceMonitor relabelling.

    ``labels`` are the target labels (job, instance, namespace, service, endpoint, pod, container; for the
    kubelet also node and metrics_path). ``metric_drop`` is a regular expression of metric names the
    ServiceMonitor's ``metricRelabelings`` drop before storage (kube-prometheus-stack drops
    ``container_spec.*`` and a few others from cAdvisor); empty when nothing is dropped.
    """

    id: str
    job: str
    metrics_path: str
    honor_labels: bool
    labels: Mapping[str, str] = field(default_factory=dict)
    node: str | None = None
    metric_drop: str = ""


def matching(stored: Mapping[SeriesKey, float], name: str, **labels: str) -> dict[SeriesKey, float]:
    """The stored series called ``name`` whose labels equal ``labels`` (an empty value means: label absent)."""
    found: dict[SeriesKey, float] = {}
    for key, value in stored.items():
        pairs = dict(key)
        if pairs["__name__"] == name and all(pairs.get(k, "") == v for k, v in labels.items()):
            found[key] = value
    return found
