"""Counters and histograms of healthy processes that run at a steady rate, in closed form.

A control-plane component, the kubelet's relist loop or the kernel's page-fault counter does about the same work
every second whatever the simulated faults do, so its counters need no integration (no breakpoints, nothing kept
per step): the count at ``t`` is the rate times the time since the process started, floored to whole events.
A histogram of such a process keeps a fixed shape: each bucket holds a fixed share of the observations.

The rates are per virtual second: the twin scales PromQL rates with its clock (:mod:`conformance.timescale`),
so a rate written here reads the same in depth 3 and at any time scale.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from conformance.sim.exposition import Exposed
from conformance.sim.types import Labels


def steady_count(per_s: float, since: float, t: float) -> float:
    """Whole events of a process doing ``per_s`` a second since virtual second ``since``."""
    return float(math.floor(max(0.0, t - since) * per_s + 1e-9))


def format_le(bound: float) -> str:
    """A bucket bound as the Go client writes it (``0.005``, ``1``, ``+Inf``)."""
    if math.isinf(bound):
        return "+Inf"
    return str(int(bound)) if bound == int(bound) and abs(bound) < 1e15 else repr(bound)


def emit_histogram(
    out: Exposed,
    family: str,
    labels: Labels,
    count: float,
    shares: Mapping[float, float],
    mean_s: float,
) -> None:
    """A histogram of ``count`` observations whose cumulative share at or under each bound is ``shares[bound]``.

    ``shares`` lists every bucket the exporter has (the share of a bound not given is that of the bound below),
    ascending; the ``+Inf`` bucket is added holding every observation. Bucket counts are whole numbers that never
    decrease as ``count`` grows, as a real histogram's.
    """
    share = 0.0
    for bound in sorted(shares):
        share = max(share, shares[bound])
        out.add(family, {**labels, "le": format_le(bound)}, math.floor(count * share + 1e-9), suffix="_bucket")
    out.add(family, {**labels, "le": "+Inf"}, count, suffix="_bucket")
    out.add(family, labels, count * mean_s, suffix="_sum")
    out.add(family, labels, count, suffix="_count")


def exponential_bounds(start: float, factor: float, count: int) -> list[float]:
    """``prometheus.ExponentialBuckets(start, factor, count)``."""
    return [start * factor**index for index in range(count)]


#: ``prometheus.DefBuckets``.
DEFAULT_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def fast_shares(bounds: list[float] | tuple[float, ...], typical_s: float) -> dict[float, float]:
    """Cumulative shares of a healthy latency distribution: 60 % of observations within ``typical_s``, 95 %
    within twice it, 99.9 % within ten times it, everything within a hundred times it."""
    shares: dict[float, float] = {}
    for bound in bounds:
        ratio = bound / typical_s
        if ratio >= 100:
            share = 1.0
        elif ratio >= 10:
            share = 0.999
        elif ratio >= 2:
            share = 0.95
        elif ratio >= 1:
            share = 0.6
        else:
            share = 0.6 * ratio * 0.5
        shares[bound] = share
    return shares
