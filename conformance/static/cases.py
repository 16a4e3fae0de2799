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
* ``immediate``: where the document states ``for`` and the quantity is measured over a window (a rate), the
  level far past the threshold, so the windowed value crosses it within a few scrapes instead of most of a
  window. Just past the threshold, a rate needs most of its window to cross, which hides a shortened ``for``;
  here the alert must still wait the documented ``for``.
* for fault ``none`` (an alert documented to always fire, such as Watchdog) the ``fire`` case has no fault and
  no warm-up: the alert must fire from the first samples within the latest bound and keep firing.
* ``silent``: a scenario the document says must not raise the alert (``expect: silent``): the fault at its own
  level (default just inside the threshold) held as long as a firing case; the alert must never fire. It is the
  only case of such a scenario.

In every case that must fire, a fault that is a state (not a burst of events) keeps the alert firing from its
first firing until the revert, unless the alert reads the quantity's trend (:attr:`Timing.reads_trend`): an alert
that resolves and fires again while the fault holds (an aggregate that counts itself, an edge-triggered
expression) fails. The hold leaves at least :func:`sustain_s` after the latest acceptable first firing to see it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from conformance.model.contract import AlertContract, Threshold
from conformance.model.scenario import FaultKind, Scenario
from conformance.sim.faults import DELAYS, intrinsic_delay_s

CaseKind = Literal["fire", "healthy", "spread", "immediate", "silent"]

#: How far past the threshold the ``immediate`` case goes: this many times the fire level for an unbounded
#: quantity, this share of the way to the ceiling (or, below a threshold, to zero) for a bounded one.
FAR_FACTOR = 10.0
FAR_SHARE = 0.9

#: Faults whose scenario may spread the fill over ``fill_s`` seconds (a scenario parameter, not a derived timing).
FILLED_OVER_TIME = frozenset({"fill-node-filesystem"})


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
    # How soon after a fault a sample can first show it: the scrapes' offset from the grid less their jitter.
    first_scrape_s: float = 0.0
    # The alert reads how its quantity moves (predict_linear, deriv, delta over a gauge), not where it stands: a
    # fault that reaches its level and holds it ends the movement, so the alert may rightly stop while it holds.
    reads_trend: bool = False

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
    sustain_s: float | None = None  # must keep firing from first firing to the revert; the hold's margin for it
    #: Seconds after the fault from which the fault's own Kubernetes mechanics may end what the alert reads (a
    #: lost node's pods evicted and started elsewhere): stopping from then on is healing, not a flap.
    heals_after_s: float | None = None
    visible_after_s: float = 0.0  # the first evaluation after the fault that can see a sample taken after it

    @property
    def id(self) -> str:
        return f"{self.alert_key}|{self.scenario.id}|{self.kind}"

    @property
    def revert_at_s(self) -> float:
        return self.fault_at_s + self.hold_s

    @property
    def must_fire(self) -> bool:
        return self.kind in ("fire", "immediate")

    def describe(self) -> str:
        targets = " + ".join(target.describe() for target in self.scenario.targets)
        shared = " shared" if self.scenario.spread else ""
        level = "" if self.level is None else f" at{shared} level {self.level:g}"
        return f"{self.kind} case: {self.scenario.fault} on {targets}{level}"


def boundary_levels(threshold: Threshold) -> tuple[float, float | None]:
    """(firing level, healthy level): just past and just inside the threshold. Healthy is None when impossible."""
    return threshold.boundary_levels()


def far_level(threshold: Threshold, kind: FaultKind) -> float:
    """A level far past the threshold, so a windowed value crosses it within a few scrapes of the fault."""
    fire, _ = boundary_levels(threshold)
    if threshold.op in ("<", "<="):
        far = fire * (1 - FAR_SHARE)
        return math.floor(far) if threshold.integer else far
    far = fire + (kind.ceiling - fire) * FAR_SHARE if kind.ceiling is not None else fire * FAR_FACTOR
    return math.ceil(far) if threshold.integer else far


def heals_after_s(scenario: Scenario) -> float | None:
    """When a fault's own Kubernetes mechanics may end the state a workload's alert reads, in seconds after the
    fault: a node that stays lost has its pods evicted once the node grace and the eviction toleration have passed
    (:data:`conformance.sim.faults.DELAYS`), and their controllers start them on another node, so an alert on those
    workloads may resolve while the node is still down (seed 004: "Kubernetes will attempt to relocate the running
    pods, but the process may take time"). None: nothing the fault does heals."""
    if scenario.fault != "node-not-ready":
        return None
    return sum(delay.seconds for delay in DELAYS["node-not-ready"])


def sustain_s(timing: Timing, latest_s: float) -> float:
    """How long past the latest acceptable first firing the fault keeps holding, to see the alert stay firing.

    Four evaluations show an alert that counts itself or fires on an edge; a quarter of the latest bound keeps
    a slow alert in view as long as it took to arrive.
    """
    return max(4 * timing.evaluation_s, latest_s / 4)


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
        intrinsic = intrinsic_delay_s(scenario.fault, scenario)
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
        if "fill_s" in scenario.params and scenario.fault in FILLED_OVER_TIME:
            # A fill the scenario spreads over time (a disk filling up): the level comes only at its end.
            fault_timing["fill_s"] = float(scenario.params["fill_s"])
        ramp = fault_timing.get("over_s", 0.0) + fault_timing.get("fill_s", 0.0)
        latest = latest_fire_s(intrinsic, timing, ramp)
        # Hold at least a quarter longer than the latest acceptable time, so a late pack is measured rather than
        # called "never" (a pack later than that is reported as never firing within the hold, which is as
        # clear), and long enough after it to see the alert stay firing.
        margin = sustain_s(timing, latest)
        hold = latest + margin
        resolve = resolve_bound_s(timing)
        horizon = warmup_s + hold + resolve + 2 * timing.evaluation_s
        # No expression can turn true before a scrape after the fault, and no evaluation sees it before the next
        # point of the evaluation grid: the documented `for` counts from there.
        visible = round_up(warmup_s + timing.first_scrape_s, timing.evaluation_s) - warmup_s
        if scenario.always:
            # Documented to fire on the healthy cluster: from the first sample, firing by the latest bound and
            # staying so; there is no fault before which it must be silent, and nothing to revert.
            bounds = _Bounds(0.0, hold, hold + 2 * timing.evaluation_s, latest, resolve, margin, visible)
            always = _fire_case(alert, scenario, None, fault_timing, timing, bounds)
            cases.append(replace(always, earliest_fire_s=None, resolve_by_s=None, sustain_s=margin))
            continue
        bounds = _Bounds(warmup_s, hold, horizon, latest, resolve, margin, visible)
        fire = _fire_case(alert, scenario, fire_level, fault_timing, timing, bounds)
        if scenario.silent:
            # Documented not to raise the alert: the fault held as a firing case would be, and nothing fires.
            level = scenario.level if scenario.level is not None else healthy_level
            cases.append(_silent(fire, kind="silent", level=level if scenario.kind.quantity else None))
            continue
        cases.append(fire)
        if (
            timing.for_documented
            and alert.window is not None
            and alert.threshold is not None
            and fire_level is not None
            and not scenario.kind.burst
        ):
            cases.append(replace(fire, kind="immediate", level=far_level(alert.threshold, scenario.kind)))
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


@dataclass(frozen=True)
class _Bounds:
    """A scenario's clock: fault at ``fault_at_s``, held ``hold_s``, judged to ``horizon_s``; the latest
    acceptable first firing, the resolution bound, the sustain margin, and when the fault is first visible."""

    fault_at_s: float
    hold_s: float
    horizon_s: float
    latest_s: float
    resolve_s: float
    margin_s: float
    visible_s: float


def _fire_case(
    alert: AlertContract,
    scenario: Scenario,
    fire_level: float | None,
    fault_timing: dict[str, float],
    timing: Timing,
    bounds: _Bounds,
) -> Case:
    """The ``fire`` case of ``scenario``: just past the threshold, judged against the timing bounds."""
    return Case(
        alert_key=alert.key,
        scenario=scenario,
        kind="fire",
        level=fire_level,
        fault_at_s=bounds.fault_at_s,
        hold_s=bounds.hold_s,
        horizon_s=bounds.horizon_s,
        fault_timing=fault_timing,
        # No expression can turn true before a scrape after the fault, and no evaluation sees it before the
        # next point of the evaluation grid: the documented `for` counts from there.
        earliest_fire_s=timing.for_s + bounds.visible_s if timing.for_documented else None,
        latest_fire_s=bounds.latest_s,
        resolve_by_s=bounds.resolve_s,
        bound_documented=timing.for_documented and timing.window_documented,
        sustain_s=None if scenario.kind.burst or timing.reads_trend else bounds.margin_s,
        visible_after_s=bounds.visible_s,
        heals_after_s=heals_after_s(scenario),
    )


def _silent(fire: Case, **changes: Any) -> Case:
    """A case derived from ``fire`` in which the alert must never fire: it has no timing bounds."""
    return replace(
        fire,
        earliest_fire_s=None,
        latest_fire_s=None,
        resolve_by_s=None,
        bound_documented=True,
        sustain_s=None,
        **changes,
    )


def round_up(value: float, step: float) -> float:
    """``value`` rounded up to a whole number of ``step`` (sample times must sit on the scrape grid)."""
    return math.ceil(value / step - 1e-9) * step
