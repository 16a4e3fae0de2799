"""The simulated cluster sampled at a few moments, healthy or with one scenario's fault held since the start.

Coverage (:mod:`.coverage`) reads which series exist under each fault; :mod:`.untouched` compares the faulted
samples with the healthy ones at the same moments. Both apply the fault the way depth 3 does
(:func:`conformance.static.series.record_case`): ``SimulatedCluster.apply_fault(scenario, level, **timing)`` on a
cluster restricted to the metric names the rules read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from conformance.model.scenario import Scenario
from conformance.model.workloads import Environment
from conformance.static.series import SeriesKey

#: Moments after a fault at which its world is sampled: at once, after a scrape, past the built-in delays
#: (node grace, progress deadline) and after a long hold.
FAULT_SAMPLES_S = (0.0, 30.0, 90.0, 700.0, 1800.0)


@dataclass(frozen=True)
class HeldFault:
    """A scenario's fault at ``level`` with its timing keywords (``over_s`` of a crash loop), never reverted."""

    scenario: Scenario
    level: float | None
    timing: dict[str, float] = field(default_factory=dict)

    def key(self) -> tuple[object, ...]:
        """What makes two held faults the same world (a scenario is a dataclass with a dict: not hashable)."""
        return (repr(self.scenario), self.level, tuple(sorted(self.timing.items())))


def sample_world(
    env: Environment,
    *,
    start_s: float,
    offsets_s: Sequence[float],
    names: Collection[str] | None,
    fault: HeldFault | None = None,
) -> list[dict[SeriesKey, float]]:
    """The stored samples of the series named ``names`` (None: all) at ``start_s + offset`` for each offset
    (increasing), the cluster healthy or with ``fault`` applied at ``start_s`` and held.

    Raises ValueError or TypeError when the fault cannot be applied to this environment (depth 3 says so for its
    alert).
    """
    from conformance.sim import SimulatedCluster

    cluster = SimulatedCluster(env, sampled_names=names)
    cluster.advance_to(start_s)
    if fault is not None:
        cluster.apply_fault(fault.scenario, fault.level, **fault.timing)
    samples = []
    for offset in offsets_s:
        cluster.advance_to(start_s + offset)
        samples.append(cluster.stored_samples(names))
    return samples
