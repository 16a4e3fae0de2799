"""Coverage: per alert of the pack, the selectors that match no series in the simulated world of the run.

A rule that reads a series the world never has cannot fire in it, however the faults go: a pack written for
another exporter version, a typo in a label, or a component the profile's environment does not declare. The run
reports them for every alert of the pack, documented or not, and a documented alert that fails at depth 3 names
them in its reason.

The world of the run is the healthy simulated cluster plus, for every scenario of the profile, the cluster while
that fault holds (a series such as ``kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}`` exists
only then). Selectors on recorded series are judged through the recording rules' own selectors, and ``ALERTS`` is
left out: promtool makes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conformance.model.profile import Profile
from conformance.packs.model import Pack, Rule
from conformance.static.cases import boundary_levels
from conformance.static.closure import Read, RuleGraph, graph_of
from conformance.static.sampled import FAULT_SAMPLES_S, HeldFault, sample_world
from conformance.static.series import Selector

_GENERATED = ("ALERTS", "ALERTS_FOR_STATE")


@dataclass(frozen=True)
class Absent:
    """A selector matching no series of the world, and the rule it is written in."""

    selector: str
    rule: Rule

    def describe(self) -> str:
        return f"{self.selector} ({self.rule.where()})"


def describe_absent(entries: Sequence[Absent]) -> list[str]:
    """One line per absent selector, naming the first rule that reads it and how many more do (a selector
    several recording rules share, as the burn-rate windows do, would otherwise be listed once per rule)."""
    rules: dict[str, list[Rule]] = {}
    for entry in entries:
        rules.setdefault(entry.selector, []).append(entry.rule)
    lines = []
    for selector, readers in rules.items():
        more = f" and {len(readers) - 1} more rule{'s' if len(readers) > 2 else ''}" if len(readers) > 1 else ""
        lines.append(f"{selector} ({readers[0].where()}{more})")
    return lines


def selector_text(read: Read) -> str:
    """``name{label="value",other=~"re"}`` as the rule reads it."""
    inner = ",".join(f'{label}{op}"{value}"' for label, op, value in read.matchers)
    return f"{read.name or ''}{{{inner}}}" if inner or not read.name else read.name


def absent_selectors(profile: Profile, pack: Pack) -> dict[str, list[Absent]]:
    """Per alert name of the pack (every rule of that name and what it reads), the selectors matching nothing.

    Alerts whose selectors all match something are left out.
    """
    graph = graph_of(pack)
    reads: dict[str, list[tuple[Read, Rule]]] = {}
    for rule in graph.alerting:
        reads.setdefault(str(rule.alert), []).extend(raw_reads(graph, recorded_closure(graph, rule)))
    world = _World(profile)
    world.add_faults({read.name for pairs in reads.values() for read, _ in pairs if not world.has(read)})
    out: dict[str, list[Absent]] = {}
    for name, pairs in reads.items():
        absent: list[Absent] = []
        for read, rule in pairs:
            entry = Absent(selector_text(read), rule)
            if not world.has(read) and entry not in absent:
                absent.append(entry)
        if absent:
            out[name] = absent
    return out


def recorded_closure(graph: RuleGraph, rule: Rule) -> list[Rule]:
    """The rule and the recording rules it reads, transitively; not the alerts an ``ALERTS`` selector reads
    (their series are their own coverage)."""
    members = [rule]
    seen = {id(rule)}
    index = 0
    while index < len(members):
        for read in graph.reads(members[index]):
            if read.name in _GENERATED:
                continue
            for producer in graph.producers(read):
                if id(producer) not in seen:
                    seen.add(id(producer))
                    members.append(producer)
        index += 1
    return members


def raw_reads(graph: RuleGraph, rules: Iterable[Rule]) -> list[tuple[Read, Rule]]:
    """Every selector of scraped series in ``rules``, with the rule it is written in."""
    return [(read, rule) for rule in rules for read in graph.reads(rule) if _raw(graph, read)]


def _raw(graph: RuleGraph, read: Read) -> bool:
    """A selector of scraped series: not ``ALERTS``, not a recorded series (judged through its rule)."""
    return read.name not in _GENERATED and not graph.producers(read)


class _World:
    """The series keys of the run's simulated world, by metric name."""

    def __init__(self, profile: Profile) -> None:
        from conformance.sim import SimulatedCluster

        self.profile = profile
        cluster = SimulatedCluster(profile.environment)
        cluster.advance_to(profile.scrape_interval_s)
        self.by_name: dict[str, list[dict[str, str]]] = {}
        self._add(cluster.stored_samples())

    def _add(self, keys: Iterable[tuple[tuple[str, str], ...]]) -> None:
        for key in keys:
            labels = dict(key)
            series = self.by_name.setdefault(labels["__name__"], [])
            if labels not in series:
                series.append(labels)

    def has(self, read: Read) -> bool:
        selector = Selector(read.name, read.matchers)
        candidates: Sequence[dict[str, str]]
        if read.name is not None:
            candidates = self.by_name.get(read.name, [])
        else:
            candidates = [labels for series in self.by_name.values() for labels in series]
        return any(selector.matches(labels) for labels in candidates)

    def add_faults(self, names: set[str | None]) -> None:
        """Sample the world under each of the profile's faults, for the metric names still unmatched."""
        if not names:
            return
        wanted = None if None in names else {name for name in names if name}
        seen: set[str] = set()
        for alert in self.profile.alerts:
            for scenario in alert.scenarios:
                if repr(scenario) in seen:
                    continue
                seen.add(repr(scenario))
                level = None
                if alert.threshold is not None and scenario.kind.quantity is not None:
                    level = boundary_levels(alert.threshold)[0]
                try:
                    samples = sample_world(
                        self.profile.environment,
                        start_s=self.profile.scrape_interval_s,
                        offsets_s=FAULT_SAMPLES_S,
                        names=wanted,
                        fault=HeldFault(scenario, level),
                    )
                except (ValueError, TypeError):
                    continue  # a fault this world cannot take: depth 3 says so for its alert
                for stored in samples:
                    self._add(stored)
