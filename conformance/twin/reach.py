"""How far back the pack's rules read each metric once Prometheus runs: how much of the warm-up to backfill.

Prometheus evaluates the rules only from its start on, at or after the end of the backfilled warm-up (virtual
second ``until``). A rule evaluated at ``t`` reads a selector's samples from ``t - back`` on, ``back`` being the
range windows, subquery ranges and offsets on the selector's path (:class:`conformance.static.closure.Read`) plus,
for an instant selector, the lookback delta. Recording rules run live too: a rule over a recorded series reads
what Prometheus recorded since its start, never the backfill, so here look-backs do not add up along a chain as
they do in depth 3 (where promtool evaluates the recording rules through the whole warm-up). A sample of metric
``n`` older than ``until`` minus the longest ``back`` of every read of ``n`` is therefore read by no rule at any
evaluation, and leaving it out changes no result. Every rule of the pack counts, not only the alerts run:
Prometheus evaluates them all, and the noise of the others must not change either.

Each read gets a margin: the lookback delta (what an instant selector reads; added to ranges too, which costs a
few samples and covers a window closed at either end) and one scrape interval (the live start falls between two
scrapes). A fixed ``@`` timestamp pins a read to a moment the warm-up cannot place: its rule reads all of it.
"""

from __future__ import annotations

import math

import promql_parser

from conformance.packs.model import Pack, Rule
from conformance.static.closure import Read, graph_of

_GENERATED = ("ALERTS", "ALERTS_FOR_STATE")  # written by Prometheus itself, never backfilled
_EVALUATION_TIME = ("@ start()", "@ end()")  # for a rule, both are its evaluation time


class Reach:
    """The reads of every rule of a pack, and how far back each metric name is read (virtual seconds)."""

    def __init__(self, pack: Pack, margin_s: float) -> None:
        graph = graph_of(pack)
        self.margin_s = margin_s
        self.reads: list[tuple[Rule, Read, float]] = []  # (rule, read, how far back it reads with the margin)
        for rule in graph.rules:
            pinned = _pins_time(rule.expr)
            for read in graph.reads(rule):
                if read.name not in _GENERATED:
                    self.reads.append((rule, read, math.inf if pinned else read.back_s + margin_s))
        chosen_by_regex = any(read.name is None for _, read, _ in self.reads)
        #: The metric names some rule selects (None: a selector picks names by a regex, so any may be read).
        self.names: frozenset[str] | None = (
            None if chosen_by_regex else frozenset(read.name for _, read, _ in self.reads if read.name)
        )
        self._furthest: dict[str, tuple[Rule, Read, float] | None] = {}

    def furthest(self, name: str) -> tuple[Rule, Read, float] | None:
        """The rule and read that reach furthest back into ``name``, and how far; None when no rule reads it."""
        if name not in self._furthest:
            found = [item for item in self.reads if item[1].matches_name(name)]
            self._furthest[name] = max(found, key=lambda item: item[2], default=None)
        return self._furthest[name]

    def seconds(self, name: str) -> float | None:
        """How far back before the live start some rule reads ``name`` (None: no rule reads it)."""
        found = self.furthest(name)
        return None if found is None else found[2]


def _pins_time(expr: str) -> bool:
    """Whether ``expr`` holds an ``@`` modifier at a fixed time (``@ start()`` and ``@ end()`` are not)."""
    pinned = False

    def visit(node: object) -> None:
        nonlocal pinned
        at = getattr(node, "at", None)
        if at is not None and str(at) not in _EVALUATION_TIME:
            pinned = True

    promql_parser.walk(promql_parser.parse(expr), visit, None)
    return pinned
