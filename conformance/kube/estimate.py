"""How long a Kubernetes run will take, wave by wave, from depth 3's predictions: printed by ``--plan``.

A wave is run as :class:`conformance.kube.backend.KubeBackend` runs it: a healthy period, the faults held until
every expected notification arrived, the revert, then the resolved notifications awaited. So, per wave::

    wave = healthy period
         + the slowest expected notification of its runs
         + the longest wait for a resolved notification after the revert

    healthy period       = 4 x min(stack interval, the profile's scrape and evaluation intervals) + 30 s
    slowest notification = max over the wave's runs predicted to fire and their receivers of
                           Expectation.latest_notify_s(receiver, group_notified=False)
                           (predicted time-to-fire + scrape + evaluation [+ one evaluation for an alert on ALERTS]
                           + the route's group_wait + a small tolerance);
                           when no run of the wave is predicted to fire: its longest predicted hold (revert_s)
    resolution wait      = max over the wave's runs and their receivers that send resolved notifications of
                           Expectation.resolve_by_s(receiver, revert) - revert, the revert coming at the slowest
                           notification (predicted resolution after the revert, or the alert's own earlier
                           resolution, + scrape + evaluation + the route's group_interval); 0 when none sends them

and the run is the sum of its waves, at time scale 1 (the Kubernetes backends run in real time), in whole
seconds. Both waits are the deadlines the verdict allows, so this is how long a passing run takes at most. Left out:
creating the kind cluster, the Helm install, the stand-ins' rollouts, and the seconds a fault or a revert waits
for a rollout or a node; a wave may also be held longer when a notification is late (up to the bound the
verdict allows). A run without a depth-3 prediction is not run live, so it adds nothing (and a wave of only such
runs adds nothing at all).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conformance.kube.stack import STACK_INTERVAL_S
from conformance.model.durations import format_duration
from conformance.model.profile import Profile
from conformance.observe.expectations import Expectation

#: the healthy period: two scrapes, two evaluations and a group_wait, at the stack's interval
HEALTHY_INTERVALS = 4
HEALTHY_EXTRA_S = 30.0


def healthy_period_s(profile: Profile) -> float:
    """The watched healthy period before each wave's faults (see the module docstring)."""
    interval = min(STACK_INTERVAL_S, profile.scrape_interval_s, profile.evaluation_interval_s)
    return HEALTHY_INTERVALS * interval + HEALTHY_EXTRA_S


@dataclass(frozen=True)
class WaveEstimate:
    """One wave's expected length, in seconds, with the runs it could not estimate."""

    healthy_s: float
    notify_s: float
    resolve_s: float
    unpredicted: tuple[str, ...] = ()

    @property
    def total_s(self) -> float:
        return self.healthy_s + self.notify_s + self.resolve_s

    def describe(self) -> str:
        text = (
            f"about {seconds(self.total_s)} = healthy {seconds(self.healthy_s)} + slowest notification "
            f"{seconds(self.notify_s)} + resolution wait {seconds(self.resolve_s)}"
        )
        if self.unpredicted:
            text += f"; not estimated (no depth-3 prediction, not run live): {', '.join(self.unpredicted)}"
        return text


@dataclass(frozen=True)
class RunEstimate:
    waves: tuple[WaveEstimate, ...]

    @property
    def total_s(self) -> float:
        return sum(w.total_s for w in self.waves)


def seconds(value: float) -> str:
    """A duration rounded up to whole seconds, as Prometheus writes them (``11m31s``)."""
    return format_duration(float(math.ceil(value)))


def notify_s(expectations: Sequence[Expectation]) -> float:
    """The slowest expected notification of one wave, in seconds from its faults."""
    latest = [
        max(
            (e.latest_notify_s(r, False) or 0.0 for r in e.receivers),
            default=e.fire_s + e.scrape_s,
        )
        for e in expectations
        if e.fire_s is not None
    ]
    if latest:
        return max(latest)
    return max((e.revert_s for e in expectations), default=0.0)


def resolve_s(expectations: Sequence[Expectation], reverted_s: float) -> float:
    """The longest wait for a resolved notification after the wave's revert at ``reverted_s`` from its faults."""
    return max(
        (e.resolve_by_s(r, reverted_s) - reverted_s for e in expectations for r in e.receivers if r.send_resolved),
        default=0.0,
    )


def estimate_run(
    waves: Sequence[Sequence[str]], expectations: Mapping[str, Expectation], healthy_s: float
) -> RunEstimate:
    """The estimate for ``waves`` (each a list of run ids) from each run's expectation."""
    estimates = []
    for wave in waves:
        known = [expectations[run_id] for run_id in wave if run_id in expectations]
        missing = tuple(run_id for run_id in wave if run_id not in expectations)
        # a wave left with no run to judge is not run at all
        healthy = healthy_s if known else 0.0
        hold = notify_s(known)
        estimates.append(WaveEstimate(healthy, hold, resolve_s(known, hold), missing))
    return RunEstimate(tuple(estimates))
