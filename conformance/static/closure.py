"""What a documented alert really reads: the recording rules it depends on, how far back, and any cycle.

Depth 3 simulates and evaluates only this *dependency closure* of the alerts a profile documents, so a pack of
thousands of rules, or with 30-day SLO recording rules no documented alert reads, costs what its documented
alerts cost. Dependencies come from the parsed expressions (promql-parser), never from substrings: a selector
depends on the recording rules whose recorded name it matches, and ``ALERTS``/``ALERTS_FOR_STATE`` on the
alerting rules their ``alertname`` matchers allow.

How far back an alert reads adds up along the chain: an alert over ``rec[1h]`` where ``rec`` records
``increase(x[30d])`` needs 30 days and an hour of history before its first honest evaluation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import promql_parser

from conformance.model.durations import format_duration
from conformance.packs.model import Pack, Rule

_GENERATED = ("ALERTS", "ALERTS_FOR_STATE")
_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


@dataclass(frozen=True)
class Read:
    """One vector selector of a rule: its metric name (None: chosen by ``__name__`` matchers), its matchers, and
    how far back from the evaluation time it reads (ranges, subquery ranges and offsets on its path)."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...]
    back_s: float

    def matches_name(self, metric: str) -> bool:
        if self.name is not None:
            return self.name == metric
        return _labels_match(self.matchers, {"__name__": metric}, only="__name__")


@dataclass(frozen=True)
class Lookback:
    """How far back a rule reads in seconds, and the chain responsible: (rule, its own look-back) pairs, from the
    rule itself down to the rule holding the longest window."""

    seconds: float
    chain: tuple[tuple[Rule, float], ...] = ()

    def responsible(self) -> tuple[Rule, float] | None:
        """The rule of the chain with the longest window of its own, and that window."""
        return max(self.chain, key=lambda step: step[1], default=None)

    def describe(self) -> str:
        """``reads 30d1h back via a -> b: b (rules.yaml:12) reads [30d]``, or ``reads no range``."""
        found = self.responsible()
        if found is None or not self.seconds:
            return "reads no range"
        rule, own = found
        names = [str(step.alert or step.record) for step, _ in self.chain]
        via = f" via {' -> '.join(names)}" if len(names) > 1 else ""
        return (
            f"reads {format_span(self.seconds)} back{via}: {rule.alert or rule.record} ({rule.where()}) "
            f"reads [{format_span(own)}]"
        )


@dataclass
class RuleGraph:
    """The pack's rules with what each reads, parsed once (a 10,000-rule pack parses in about a second)."""

    pack: Pack
    _reads: dict[int, tuple[Read, ...]] = field(default_factory=dict)
    _lookback: dict[int, Lookback] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rules: list[Rule] = [rule for group in self.pack.groups for rule in group.rules]
        self.recording: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.record:
                self.recording.setdefault(rule.record, []).append(rule)
        self.alerting = [rule for rule in self.rules if rule.alert]

    def reads(self, rule: Rule) -> tuple[Read, ...]:
        key = id(rule)
        if key not in self._reads:
            found: list[Read] = []
            _walk(promql_parser.parse(rule.expr), 0.0, found)
            self._reads[key] = tuple(found)
        return self._reads[key]

    def producers(self, read: Read) -> list[Rule]:
        """The rules whose output ``read`` selects: recording rules by name, alerting rules through ``ALERTS``."""
        if read.name in _GENERATED:
            return [rule for rule in self.alerting if _may_produce(read, rule)]
        if read.name is not None:
            return list(self.recording.get(read.name, ()))
        return [rule for name, rules in self.recording.items() if read.matches_name(name) for rule in rules]

    def depends_on(self, rule: Rule) -> list[Rule]:
        seen: set[int] = set()
        out: list[Rule] = []
        for read in self.reads(rule):
            for producer in self.producers(read):
                if id(producer) not in seen:
                    seen.add(id(producer))
                    out.append(producer)
        return out

    def closure(self, rules: Iterable[Rule]) -> list[Rule]:
        """The rules plus every rule they depend on, transitively; the given rules first, then in discovery order."""
        wanted = list(rules)
        seen = {id(rule) for rule in wanted}
        index = 0
        while index < len(wanted):
            for rule in self.depends_on(wanted[index]):
                if id(rule) not in seen:
                    seen.add(id(rule))
                    wanted.append(rule)
            index += 1
        return wanted

    def cycle(self, rules: Iterable[Rule]) -> list[Rule] | None:
        """A chain of recording rules that reads itself, reachable from ``rules`` (first rule repeated last), or
        None. Prometheus evaluates such a chain on its own previous values, so no fault can be proven through it."""
        state: dict[int, int] = {}  # 1: on the current path, 2: done
        path: list[Rule] = []

        def visit(rule: Rule) -> list[Rule] | None:
            state[id(rule)] = 1
            path.append(rule)
            for dependency in self.depends_on(rule):
                if not dependency.record:
                    continue
                if state.get(id(dependency)) == 1:
                    start = next(i for i, r in enumerate(path) if r is dependency)
                    return [*path[start:], dependency]
                if id(dependency) not in state and (found := visit(dependency)) is not None:
                    return found
            path.pop()
            state[id(rule)] = 2
            return None

        for rule in rules:
            if id(rule) not in state and (found := visit(rule)) is not None:
                return found
        return None

    def lookback(self, rule: Rule) -> Lookback:
        """How far back ``rule`` reads, summed along its longest chain of recording rules (cycles cut)."""
        return self._lookback_of(rule, frozenset())

    def _lookback_of(self, rule: Rule, on_path: frozenset[int]) -> Lookback:
        key = id(rule)
        if key in self._lookback:
            return self._lookback[key]
        inner = on_path | {key}
        best = Lookback(0.0, ((rule, 0.0),))
        for read in self.reads(rule):
            deeper = Lookback(0.0)
            for producer in self.producers(read):
                if id(producer) in inner:
                    continue  # a cycle: reported by :meth:`cycle`, cut here
                candidate = self._lookback_of(producer, inner)
                if candidate.seconds > deeper.seconds:
                    deeper = candidate
            total = read.back_s + deeper.seconds
            if total > best.seconds:
                best = Lookback(total, ((rule, read.back_s), *deeper.chain))
        if not on_path:
            self._lookback[key] = best  # a result cut by a cycle is only valid on its own path
        return best


def format_span(seconds: float) -> str:
    """A duration for people, with days and no false precision: ``365d``, ``30d1h``, ``6h5m``, ``2m30s``."""
    whole = round(seconds)
    if whole >= 86_400:
        days, hours = divmod(round(whole / 3600), 24)
        return f"{days}d" + (f"{hours}h" if hours else "")
    if whole >= 3600:
        return format_duration(round(whole / 60) * 60)
    return format_duration(whole)


def longest(graph: RuleGraph, rules: Sequence[Rule]) -> Lookback:
    """The longest look-back among ``rules``."""
    return max((graph.lookback(rule) for rule in rules), key=lambda found: found.seconds, default=Lookback(0.0))


def describe_cycle(cycle: Sequence[Rule]) -> str:
    """``recording rules a (f:1) -> b (f:9) -> a form a cycle``: one line naming each place."""
    steps = [f"{rule.record or rule.alert} ({rule.where()})" for rule in cycle[:-1]]
    return f"recording rules {' -> '.join(steps)} -> {cycle[-1].record} form a cycle: each reads its own output"


_GRAPHS: list[tuple[Pack, RuleGraph]] = []


def graph_of(pack: Pack) -> RuleGraph:
    """The pack's graph, kept for the few packs of a run (the same pack is asked about once per alert)."""
    for known, graph in _GRAPHS:
        if known is pack:
            return graph
    graph = RuleGraph(pack)
    _GRAPHS.append((pack, graph))
    del _GRAPHS[:-4]
    return graph


def _seconds(value: object) -> float:
    return abs(value.total_seconds()) if value is not None and hasattr(value, "total_seconds") else 0.0


def _walk(node: object, back_s: float, out: list[Read]) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        matchers = tuple((m.name, _OPS[str(m.op)], m.value) for m in node.matchers.matchers)
        out.append(Read(node.name, matchers, back_s + _seconds(node.offset)))
    elif isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, back_s + _seconds(node.range), out)
    elif isinstance(node, promql_parser.SubqueryExpr):
        _walk(node.expr, back_s + _seconds(node.range) + _seconds(node.offset), out)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _walk(arg, back_s, out)
    elif isinstance(node, promql_parser.BinaryExpr):
        _walk(node.lhs, back_s, out)
        _walk(node.rhs, back_s, out)
    elif isinstance(node, promql_parser.AggregateExpr):
        _walk(node.expr, back_s, out)
        if node.param is not None:
            _walk(node.param, back_s, out)
    elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        _walk(node.expr, back_s, out)


def _may_produce(read: Read, rule: Rule) -> bool:
    """Whether ``ALERTS{...}`` can select the alerts of ``rule``: by its name, and by the labels the rule sets
    itself (a rule's own labels override its expression's, so ``severity="info"`` excludes a critical rule)."""
    known = {name: value for name, value in rule.labels.items() if "{{" not in value}
    known["alertname"] = str(rule.alert)
    return all(_labels_match(read.matchers, known, only=label) for label in known)


def _labels_match(matchers: Iterable[tuple[str, str, str]], labels: dict[str, str], *, only: str) -> bool:
    """Whether the matchers on label ``only`` accept ``labels`` (Prometheus regexes are anchored)."""
    for label, op, value in matchers:
        if label != only:
            continue
        actual = labels.get(label, "")
        if (
            (op == "=" and actual != value)
            or (op == "!=" and actual == value)
            or (op == "=~" and not re.fullmatch(value, actual))
            or (op == "!~" and re.fullmatch(value, actual))
        ):
            return False
    return True
