"""Whether a failing scenario's fault changes anything the alert reads.

An alert whose rules read only series the fault leaves alone cannot fire on it, however its thresholds are set:
the fault is on another workload than the rules select, or the pack reads a symptom this fault does not cause.
When depth 3 fails a scenario that must fire, its reason says so, naming the fault and the selectors.

The fault is applied as depth 3 applies it (the failing case's own level and timing) and held from the start
of the simulated cluster, as :mod:`.coverage` holds it; that cluster is sampled at
:data:`~conformance.static.sampled.FAULT_SAMPLES_S` after the fault and at the case's latest acceptable time to
fire, and a healthy cluster at the same moments. A series *changes* when, at one of
those moments, it exists in one world and not the other, or its values differ by more than float rounding. So a
counter whose rate the fault changes counts (its values drift apart), and a series identical at every moment
does not. Only the selectors of scraped series count (``ALERTS`` and recorded series are judged through the rules
that make them: an aggregate's inner alerts are in its closure).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from conformance.model.profile import Profile
from conformance.model.scenario import Scenario
from conformance.packs.model import Pack, Rule
from conformance.static.behaviour import CaseVerdict
from conformance.static.cases import Case
from conformance.static.closure import Read, graph_of
from conformance.static.coverage import raw_reads, selector_text
from conformance.static.sampled import FAULT_SAMPLES_S, HeldFault, sample_world
from conformance.static.series import Selector, SeriesKey

#: How many selectors a reason names before "and N more".
SHOWN = 3
#: Two values closer than this (relatively) are the same: a counter integrated over more, shorter steps in the
#: faulted cluster (the fault's own moments split them) may differ from the healthy one in its last bits.
_TOLERANCE = 1e-9

Samples = list[dict[SeriesKey, float]]


@dataclass(frozen=True)
class Untouched:
    """A failing scenario whose fault changes none of the series read through ``selectors`` (those that match
    some series; the ones matching none are coverage's to name)."""

    scenario: Scenario
    selectors: tuple[str, ...]

    def describe(self) -> str:
        targets = " + ".join(target.describe() for target in self.scenario.targets)
        shown = ", ".join(self.selectors[:SHOWN])
        more = f" and {len(self.selectors) - SHOWN} more" if len(self.selectors) > SHOWN else ""
        return f"the fault {self.scenario.fault} on {targets} changes none of the series its rules read ({shown}{more})"


def failing_faults(verdicts: Iterable[CaseVerdict]) -> list[Case]:
    """The first failing case of each scenario that must fire on a fault (not fault ``none``): the fault whose
    effect is worth checking. A case that must stay silent and fires is explained by what fired, not the fault."""
    cases: dict[str, Case] = {}
    for verdict in verdicts:
        case = verdict.case
        if verdict.problem and case.must_fire and not case.scenario.always:
            cases.setdefault(case.scenario.id, case)
    return list(cases.values())


class FaultEffects:
    """Per run: which selectors each held fault changes. Every simulation is kept, keyed by the fault (or the
    healthy cluster), the metric names sampled and the moments, so each scenario is simulated once."""

    def __init__(self, profile: Profile, pack: Pack) -> None:
        self.profile = profile
        self.graph = graph_of(pack)
        self._worlds: dict[tuple[object, ...], Samples | None] = {}

    def untouched(self, rules: Sequence[Rule], case: Case) -> Untouched | None:
        """``case``'s fault if it changes none of the series ``rules`` read (and they read some that exist)."""
        reads = _unique([read for read, _ in raw_reads(self.graph, rules)])
        if not reads:
            return None
        names = None if any(read.name is None for read in reads) else frozenset(str(read.name) for read in reads)
        offsets = tuple(sorted({*FAULT_SAMPLES_S, *([case.latest_fire_s] if case.latest_fire_s else [])}))
        healthy = self._world(names, offsets, None)
        faulted = self._world(names, offsets, HeldFault(case.scenario, case.level, dict(case.fault_timing)))
        if healthy is None or faulted is None:
            return None  # a fault this world cannot take: depth 3 says so
        changed = changed_series(healthy, faulted)
        seen = {key for samples in (*healthy, *faulted) for key in samples}
        matching: list[str] = []
        for read in reads:
            selector = Selector(read.name, read.matchers)
            keys = [key for key in seen if selector.matches(dict(key))]
            if any(key in changed for key in keys):
                return None
            if keys:
                matching.append(selector_text(read))
        return Untouched(case.scenario, tuple(matching)) if matching else None

    def _world(
        self, names: frozenset[str] | None, offsets: tuple[float, ...], fault: HeldFault | None
    ) -> Samples | None:
        key = (names, offsets, None if fault is None else fault.key())
        if key not in self._worlds:
            try:
                self._worlds[key] = sample_world(
                    self.profile.environment,
                    start_s=self.profile.scrape_interval_s,
                    offsets_s=offsets,
                    names=names,
                    fault=fault,
                )
            except (ValueError, TypeError):
                self._worlds[key] = None
        return self._worlds[key]


def changed_series(
    healthy: Sequence[Mapping[SeriesKey, float]], faulted: Sequence[Mapping[SeriesKey, float]]
) -> set[SeriesKey]:
    """The series that, at some moment sampled in both, exist in only one of the worlds or differ in value."""
    changed: set[SeriesKey] = set()
    for before, after in zip(healthy, faulted, strict=True):
        for key in before.keys() | after.keys():
            if key not in before or key not in after or not _same(before[key], after[key]):
                changed.add(key)
    return changed


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=_TOLERANCE, abs_tol=_TOLERANCE)


def _unique(reads: Iterable[Read]) -> list[Read]:
    """The reads in order, each selector once (its range and offset do not change which series it selects)."""
    found: dict[tuple[object, ...], Read] = {}
    for read in reads:
        found.setdefault((read.name, read.matchers), read)
    return list(found.values())
