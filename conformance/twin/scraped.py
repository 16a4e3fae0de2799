"""Which of the cluster's targets the twin's Prometheus scrapes: those whose series some rule of the pack can read.

Every scrape is Python work in the twin's one process: the exposition under the lane's cluster lock and the HTTP
exchange (about a millisecond a target beside the exposition), for every Prometheus replica of every lane, all
under one interpreter lock. A default kube-prometheus-stack install has targets a pack may never read (the control
plane, the operator and its config-reloaders, the kubelet's own and probes endpoints, for a pack about
applications). For the Run:ai profile, one scrape of each of its 58 targets costs the cluster server 76 ms of CPU;
of the 22 its rules can read, 41 ms (benchmarks/scrape.py); and its six high-availability lanes at x20 scrape every
target twice each 0.75 s.

A target none of whose families a rule reads changes no rule's result, so it is not scraped: unless a rule reads a
series Prometheus writes for every target it scrapes (``up``, ``scrape_*``), or picks names by a regex, and then
every target is.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, runtime_checkable

from conformance.twin.exporter import ClusterLike, ScrapeTargetLike


@runtime_checkable
class FamilyAwareCluster(ClusterLike, Protocol):
    """A cluster that can say whether a target's families can include a name."""

    def may_serve(self, target_id: str, names: Collection[str]) -> bool: ...


def choosing_names(read: Collection[str] | None) -> frozenset[str] | None:
    """The metric names the rules read (``read``; None when a regex picks them) as the names that choose the
    scraped targets; None, every target, when a regex picks them or one is a series Prometheus writes for every
    target it scrapes (``up``, ``scrape_duration_seconds`` ...)."""
    if read is None or any(name == "up" or name.startswith("scrape_") for name in read):
        return None
    return frozenset(read)


def scraped(cluster: ClusterLike, names: Collection[str] | None) -> list[ScrapeTargetLike]:
    """The targets of ``cluster`` Prometheus scrapes: those that may serve one of ``names`` (None: every one)."""
    targets = list(cluster.targets())
    if names is None or not isinstance(cluster, FamilyAwareCluster):
        return targets
    return [target for target in targets if cluster.may_serve(target.id, names)]
