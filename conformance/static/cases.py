"""Behaviour cases for one documented alert: the fault levels and timelines depth 3 proves.

For each scenario of an alert:

* ``fire``: the level just past the documented threshold (or the fault itself when it has no level), held long
  enough to see even a late alert. The alert must fire no earlier than the documented ``for`` and no later than
  :func:`latest_fire_s`, then resolve within :func:`resolve_bound_s` of the revert.
* ``healthy``: the level just inside the threshold, held as long; the alert must never fire. A pack looser than
  documented fires here; a pack tighter than documented does not fire in ``fire``.
* ``spread``: for counted events in a window (restarts in 10 minutes), the same count as ``fire`` spread so that
  no window of the documented length holds them all; the alert must never fire. A pack whose window is longer
  than documented fires here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from conformance.model.contract import AlertContract, Threshold
from conformance.model.scenario import Scenario
from conformance.sim.faults import DELAYS, intrinsic_delay_s

CaseKind = Literal["fire", "healthy", "spread"]

#: How long the Kubernetes mechanics behind a fault take before its state is visible (seconds): a node goes
#: Ready=Unknown only after the node controller's 40 s heartbeat grace, a rollout is declared stuck after its
#: 600 s progress deadline (the simulated cluster's built-in delays, conformance.sim.faults.DELAYS).
INTRINSIC_DELAY_S = {fault: intrinsic_delay_s(fault) for fault in DELAYS}


@dataclass(frozen=True)
class Timing:
    """The clocks a case is judged against, in seconds."""

    scrape_s: float
    evaluation_s: float
    for_s: float
    for_documented: bool
    window_s: float
    window_documented: bool = True
    keep_firing_for_s: float = 0.0

    @property
    def slack_s(self) -> float:
        """Sampling phase: up to one scrape and two evaluations between a state change and its verdict."""
        return self.scrape_s + 2 * self.evaluation_s


@dataclass(frozen=True)
class Case:
    """One input for promtool: a fault at ``level`` from ``fault_at_s`` for ``hold_s``, judged until ``horizon_s``."""

    alert_key: str
    scenario: Scenario
    kind: CaseKind
    level: float | None
    fault_at_s: float
    hold_s: float
    horizon_s: float
    fault_timing: dict[str, float]
    earliest_fire_s: float | None
    latest_fire_s: float | None
    resolve_by_s: float | None
    bound_documented: bool = True  # the latest-fire bound rests on documented numbers only

    @property
    def id(self) -> str:
        return f"{self.alert_key}|{self.scenario.id}|{self.kind}"

    @property
    def revert_at_s(self) -> float:
        return self.fault_at_s + self.hold_s

    @property
    def must_fire(self) -> bool:
        return self.kind == "fire"

    def describe(self) -> str:
        level = "" if self.level is None else f" at level {self.level:g}"
        return f"{self.kind} case: {self.scenario.fault} on {self.scenario.target.describe()}{level}"


def boundary_levels(threshold: Threshold) -> tuple[float, float | None]:
    """(firing level, healthy level): just past and just inside the threshold. Healthy is None when impossible."""
    value = threshold.value
    above = threshold.op in (">", ">=")
    if threshold.integer:
        past = {">": value + 1, ">=": value, "<": value - 1, "<=": value}[threshold.op]
        inside = {">": value, ">=": value - 1, "<": value, "<=": value + 1}[threshold.op]
        return past, (inside if inside >= 0 else None)
    step = abs(value) * threshold.margin if value else threshold.margin
    past = value + step if above else value - step
    inside = value - step if above else value + step
    return past, (inside if inside >= 0 else None)


def latest_fire_s(intrinsic_s: float, timing: Timing, ramp_s: float = 0.0) -> float:
    """Latest acceptable first-firing time after the fault: mechanics, ramp, window, ``for``, sampling slack."""
    return intrinsic_s + ramp_s + timing.window_s + timing.for_s + timing.slack_s


def resolve_bound_s(timing: Timing) -> float:
    """After the revert the alert must stop within the window it looks back over, ``keep_firing_for`` and slack."""
    return timing.window_s + timing.keep_firing_for_s + timing.slack_s + timing.evaluation_s


def build_cases(alert: AlertContract, timing: Timing, warmup_s: float) -> list[Case]:
    """All cases for ``alert``; ``warmup_s`` of healthy cluster come first so range windows are full."""
    cases: list[Case] = []
    for scenario in alert.scenarios:
        intrinsic = INTRINSIC_DELAY_S.get(scenario.fault, 0.0)
        fire_level: float | None = None
        healthy_level: float | None = None
        if alert.threshold is not None and scenario.kind.quantity is not None:
            fire_level, healthy_level = boundary_levels(alert.threshold)
        fault_timing: dict[str, float] = {}
        spread_over = 0.0
        if scenario.fault == "crash-loop":
            # N restarts inside half the window: comfortably within it, still honest about the back-off.
            fault_timing["over_s"] = timing.window_s / 2
            if fire_level is not None and fire_level >= 2:
                # Evenly spread, the first and the last of N events are over*(N-1)/N apart: keep that 30% wider
                # than the window so no window can hold all N.
                spread_over = timing.window_s * fire_level / (fire_level - 1) * 1.3
        latest = latest_fire_s(intrinsic, timing, fault_timing.get("over_s", 0.0))
        # Hold a quarter longer than the latest acceptable time, so a late pack is measured rather than called
        # "never" (a pack later than that is reported as never firing within the hold, which is as clear).
        hold = latest + max(4 * timing.evaluation_s, latest / 4)
        resolve = resolve_bound_s(timing)
        horizon = warmup_s + hold + resolve + 2 * timing.evaluation_s
        earliest = timing.for_s if timing.for_documented else None
        fire = Case(
            alert_key=alert.key,
            scenario=scenario,
            kind="fire",
            level=fire_level,
            fault_at_s=warmup_s,
            hold_s=hold,
            horizon_s=horizon,
            fault_timing=fault_timing,
            earliest_fire_s=earliest,
            latest_fire_s=latest,
            resolve_by_s=resolve,
            bound_documented=timing.for_documented and timing.window_documented,
        )
        cases.append(fire)
        if healthy_level is not None:
            cases.append(_silent(fire, kind="healthy", level=healthy_level))
        if spread_over and fire_level is not None:
            spread_hold = spread_over + timing.window_s
            cases.append(
                _silent(
                    fire,
                    kind="spread",
                    hold_s=spread_hold,
                    horizon_s=warmup_s + spread_hold + resolve + 2 * timing.evaluation_s,
                    fault_timing={"over_s": spread_over},
                )
            )
    return cases


def _silent(fire: Case, **changes: Any) -> Case:
    """A case derived from ``fire`` in which the alert must never fire: it has no timing bounds."""
    return replace(fire, earliest_fire_s=None, latest_fire_s=None, resolve_by_s=None, bound_documented=True, **changes)


def round_up(value: float, step: float) -> float:
    """``value`` rounded up to a whole number of ``step`` (sample times must sit on the scrape grid)."""
    return math.ceil(value / step - 1e-9) * step
