"""What depth 3 will cost, estimated before anything runs, and the budget it must stay within.

A run that would exceed the budget stops before it starts, with one line naming the alert, the rule and the window
responsible and the options that raise the budget: a 30-day window must never meet the kernel's OOM killer.

The model is promtool's, measured with promtool 2.42 on a busy 2-core machine: ``promtool test rules`` loads every
input sample (about 1.5 us and 55 bytes each, all held until the test group ends), spends about 1 ms per evaluation
step of a test group (the rule groups evaluated, the alert checked: the firing timeline is read from those checks),
plus, for every rule of its batch, about 6 us per series a selector matches and 0.1 us per sample in its range
window, and stores every recorded sample. Matched series are counted in the healthy simulated cluster. The figures are
deliberately an upper bound: recorded series are counted as if no aggregation reduced them.

Depth 3 scrapes off the evaluation grid (:mod:`conformance.static.clock`), so promtool's input grid is finer than the
scrape interval (1 s on a 30 s interval) and every input step between two samples is a gap its parser expands: about
0.25 us and 28 bytes per input step of every input series (measured with promtool 2.42: 20 series over 7 days,
330 MiB more on the 1 s grid than on the 30 s one). A long window would cost far more in those gaps than in samples,
so an alert that reads hours back runs on the coarse grid (:mod:`conformance.static.grid`): input on the scrape
interval, evaluation every few minutes. Each alert is estimated on the grid it runs on: its input steps, its
evaluation steps, and the samples its range windows hold (a recorded series has one sample per evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conformance.errors import BudgetError
from conformance.model.profile import Profile
from conformance.options import DEFAULT_BUDGET_MEMORY_BYTES, DEFAULT_BUDGET_TIME_S
from conformance.packs.model import Pack, Rule
from conformance.static.behaviour import BehaviourPlan, batch_chunks, silent_for_query
from conformance.static.closure import Lookback, Read, RuleGraph, format_span, graph_of
from conformance.static.series import Selector, SeriesKey

APPEND_S = 1.5e-6
SAMPLE_BYTES = 55
READ_S = 6e-6
#: Per sample in a range window, at every evaluation (measured with promtool 2.42: avg_over_time of a recorded series
#: over [30d], 28,089 evaluations of 5 minutes in 71 s, and 8,640 of 30 s over a 3-day horizon in 11 s: 0.3 us).
WINDOW_SAMPLE_S = 0.3e-6
RULE_EVAL_S = 20e-6
STEP_S = 1e-3
#: A case that watches ALERTS for a scenario's ``silent_for`` evaluates one more expression per step (measured with
#: promtool 2.42: runai's system-worker-lost, three matchers, 32 steps, 6 ms more).
WATCH_STEP_S = 0.2e-3
INPUT_STEP_S = 0.25e-6
INPUT_STEP_BYTES = 28
PROMTOOL_BASE_BYTES = 80 * 2**20
#: The Python process itself: interpreter, pack, simulated cluster, the cases' series as text.
PYTHON_BASE_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Budget:
    """The most memory (bytes, every process of the run together) and wall time depth 3 may take."""

    memory_bytes: int = DEFAULT_BUDGET_MEMORY_BYTES
    time_s: float = DEFAULT_BUDGET_TIME_S


@dataclass(frozen=True)
class AlertCost:
    """One documented alert's share: its promtool work, its longest case, and why it reads so far back."""

    key: str
    label: str
    seconds: float
    peak_bytes: int
    horizon_s: float
    lookback: Lookback
    rules: int


@dataclass(frozen=True)
class Estimate:
    seconds: float
    peak_bytes: int
    alerts: tuple[AlertCost, ...]

    def culprit(self) -> AlertCost | None:
        return max(self.alerts, key=lambda a: (a.peak_bytes, a.seconds), default=None)


def estimate(
    plan: BehaviourPlan, profile: Profile, pack: Pack, *, workers: int = 2, alerts_per_batch: int = 3
) -> Estimate:
    """The wall time and peak memory of running ``plan`` (see the module's model)."""
    graph = graph_of(pack)
    counter = _SeriesCounter(graph, profile)
    by_alert: dict[str, list[tuple[float, int, bool]]] = {}  # alert key -> (horizon, input series, watched)
    for item in plan.planned:
        case = item.case
        _, selectors, _ = plan.recordings[item.recording]
        watched = silent_for_query(item.behaviour.alert.name, case) is not None
        by_alert.setdefault(item.behaviour.alert.key, []).append((case.horizon_s, counter.matching(selectors), watched))
    costs: list[AlertCost] = []
    batch_bytes: list[int] = []
    total = 0.0
    for chunk in batch_chunks(list(by_alert), plan.needs, alerts_per_batch, plan.grids):
        rules = {id(rule): rule for key in chunk for rule in plan.needs[key]}.values()
        evaluation_s = plan.grids[chunk[0]].evaluation_s
        per_step = STEP_S + sum(
            RULE_EVAL_S + counter.read_cost(rule, profile.scrape_interval_s, evaluation_s) for rule in rules
        )
        recorded = sum(counter.outputs(rule) for rule in rules if rule.record)
        biggest = 0
        for key in chunk:
            seconds = 0.0
            input_step_s = plan.grids[key].clock.step_s
            for horizon, series, watched in by_alert[key]:
                samples = series * (horizon / profile.scrape_interval_s + 1)
                inputs = series * (horizon / input_step_s + 1)
                steps = horizon / evaluation_s + 1
                step_s = per_step + (WATCH_STEP_S if watched else 0.0)
                seconds += samples * APPEND_S + inputs * INPUT_STEP_S + steps * step_s
                biggest = max(biggest, int((samples + recorded * steps) * SAMPLE_BYTES + inputs * INPUT_STEP_BYTES))
            horizon = max(h for h, _, _ in by_alert[key])
            label = next(a.label for a in profile.alerts if a.key == key)
            peak = PROMTOOL_BASE_BYTES + biggest + PYTHON_BASE_BYTES
            costs.append(AlertCost(key, label, seconds, peak, horizon, plan.lookbacks[key], len(plan.needs[key])))
            total += seconds
        # promtool keeps one test group's samples at a time: a batch's peak is its biggest case.
        batch_bytes.append(PROMTOOL_BASE_BYTES + biggest)
    concurrent = sum(sorted(batch_bytes, reverse=True)[:workers])
    longest = max((cost.seconds for cost in costs), default=0.0)
    return Estimate(max(total / max(workers, 1), longest), PYTHON_BASE_BYTES + concurrent, tuple(costs))


def check_budget(found: Estimate, budget: Budget) -> None:
    """:class:`BudgetError` with one line when ``found`` exceeds ``budget``."""
    over_memory = found.peak_bytes > budget.memory_bytes
    over_time = found.seconds > budget.time_s
    if not (over_memory or over_time):
        return
    culprit = (
        max(found.alerts, key=lambda a: a.peak_bytes) if over_memory else max(found.alerts, key=lambda a: a.seconds)
    )
    needs = []
    if over_memory:
        needs.append(f"{format_bytes(found.peak_bytes)} of memory (budget {format_bytes(budget.memory_bytes)})")
    if over_time:
        needs.append(f"{format_span(found.seconds)} (budget {format_span(budget.time_s)})")
    why = culprit.lookback.describe() if culprit.lookback.seconds else "reads no range"
    size = f", through {culprit.rules} rules" if culprit.rules > 20 else ""
    raise BudgetError(
        f"depth 3 would need about {' and '.join(needs)}, mostly for {culprit.label}: it {why}{size}, so each "
        f"of its cases simulates {format_span(culprit.horizon_s)}; raise the budget with "
        "--budget-memory/--budget-time, or leave the alert out of the profile"
    )


def format_bytes(count: float) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count / 2**10:.0f} KiB"


class _SeriesCounter:
    """How many series a selector matches in the healthy simulated cluster (one sample of it, taken lazily)."""

    def __init__(self, graph: RuleGraph, profile: Profile) -> None:
        self.graph = graph
        self.profile = profile
        self._healthy: list[dict[str, str]] | None = None
        self._outputs: dict[int, float] = {}

    def healthy(self) -> list[dict[str, str]]:
        if self._healthy is None:
            from conformance.sim import SimulatedCluster

            cluster = SimulatedCluster(self.profile.environment)
            cluster.advance_to(self.profile.scrape_interval_s)
            stored: Mapping[SeriesKey, float] = cluster.stored_samples()
            self._healthy = [dict(key) for key in stored]
        return self._healthy

    def matching(self, selectors: Sequence[Selector]) -> int:
        return sum(1 for labels in self.healthy() if any(selector.matches(labels) for selector in selectors))

    def _read_series(self, read: Read) -> float:
        producers = self.graph.producers(read)
        if read.name in ("ALERTS", "ALERTS_FOR_STATE"):
            return float(len(producers))
        if producers:
            return sum(self.outputs(rule) for rule in producers)
        return float(self.matching([Selector(read.name, read.matchers)]))

    def outputs(self, rule: Rule) -> float:
        """An upper bound on the series a recording rule writes: the series its selectors read."""
        key = id(rule)
        if key not in self._outputs:
            self._outputs[key] = 1.0  # a cycle's guard; cycles never reach the estimate (they fail the alert)
            self._outputs[key] = max(1.0, max((self._read_series(r) for r in self.graph.reads(rule)), default=1.0))
        return self._outputs[key]

    def read_cost(self, rule: Rule, scrape_s: float, evaluation_s: float) -> float:
        """Seconds promtool spends reading ``rule``'s selectors at one evaluation: a scraped series has a sample
        every ``scrape_s`` in its range window, a recorded one (or ALERTS) every ``evaluation_s``."""
        return sum(
            self._read_series(read)
            * (READ_S + read.back_s / self._spacing(read, scrape_s, evaluation_s) * WINDOW_SAMPLE_S)
            for read in self.graph.reads(rule)
        )

    def _spacing(self, read: Read, scrape_s: float, evaluation_s: float) -> float:
        produced = read.name in ("ALERTS", "ALERTS_FOR_STATE") or bool(self.graph.producers(read))
        return evaluation_s if produced else scrape_s


def budget_line(found: Estimate) -> str:
    """``depth 3: about 12s and 310 MiB`` for the run's header."""
    return f"depth 3 estimate: about {format_span(found.seconds)} and {format_bytes(found.peak_bytes)}"
