"""cpu-throttling: the container presses on its CPU limit, so the kernel throttles its CFS periods.

A real kernel's throttled share cannot be dialled to a level: one busy loop more than the limit has cores keeps
the container at its quota in every period, so the share throttled is at least the level (close to all
periods), which is what the firing case needs; the simulated cluster sets the exact share.
"""

from __future__ import annotations

import math

from conformance_plugins.cpu_near_limit import CpuNearLimit, CpuParams, cpu_limit

from conformance.kube.faults import Injector
from conformance.kube.placement import ResolvedTarget
from conformance.model.scenario import Scenario


class CpuThrottling(CpuNearLimit):
    fault = "cpu-throttling"

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        if level is None:
            raise ValueError("cpu-throttling needs a level (share of CFS periods throttled)")
        limit = cpu_limit(target) or 0.0
        # More busy loops than the limit has cores: the quota runs out in every period.
        saturating = (math.floor(limit) + 1) / limit if limit else 1.0
        return cls(target, CpuParams(saturating, limit, int(scenario.params.get("max_hold_s", 1800))))

    def describe(self) -> str:
        return (
            f"run {self.params.processes} busy loop(s) in {self.target.describe()}, more than its "
            f"{self.params.limit_cores:g}-core limit: throttled in (nearly) every CFS period"
        )
