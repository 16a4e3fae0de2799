"""The streamed warm-up: held as runs of samples, written line by line, the same file as sampling it whole."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.model.scenario import Scenario, Target
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.sim.exposition import escape_label_value, format_value
from conformance.sim.types import SeriesKey
from conformance.static.series import Gap, Run
from conformance.testing.toy import ToyCluster
from conformance.twin.backfill import SampledCluster, Warmup, sample_warmup, write_openmetrics

UNIX = 1_700_000_000.0


def unix_time_of(virtual: float) -> float:
    return UNIX + virtual / 20


# The way the warm-up was written before it was streamed: a snapshot of every series at every step, then one
# string. Kept here, verbatim, as the reference the streamed writer must reproduce byte for byte.


@dataclass(frozen=True)
class Snapshot:
    at_s: float
    samples: Mapping[SeriesKey, float]


def reference_snapshots(
    cluster: SampledCluster, until_s: float, step_s: float, names: Collection[str] | None = None
) -> list[Snapshot]:
    wanted = None if names is None else set(names)
    snapshots: list[Snapshot] = []
    step = 0
    while True:
        at = min(step * step_s, until_s)
        cluster.advance_to(at)
        snapshots.append(Snapshot(at, dict(cluster.stored_samples(wanted))))
        if at >= until_s:
            return snapshots
        step += 1


def reference_openmetrics(snapshots: Sequence[Snapshot], unix_time_of: Callable[[float], float]) -> str:
    by_series: dict[SeriesKey, list[tuple[float, float]]] = {}
    for snapshot in snapshots:
        stamp = unix_time_of(snapshot.at_s)
        for key, value in snapshot.samples.items():
            by_series.setdefault(key, []).append((stamp, value))
    lines: list[str] = []
    for key in sorted(by_series, key=lambda key: (dict(key)["__name__"], key)):
        labels = dict(key)
        name = labels.pop("__name__")
        inner = ",".join(f'{label}="{escape_label_value(value)}"' for label, value in sorted(labels.items()))
        series = f"{name}{{{inner}}}" if labels else name
        for stamp, value in sorted(by_series[key]):
            lines.append(f"{series} {format_value(value)} {stamp:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


class Whole:
    """A reach that keeps ``names`` through the whole warm-up, and nothing else."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = frozenset(names)

    def seconds(self, name: str) -> float | None:
        return math.inf if name in self.names else None


class FlakyToy(ToyCluster):
    """A toy cluster whose ``beta`` target is down from ``down_s`` to ``up_s`` (its series vanish, then return),
    with a counter at a fractional rate (values a float sum cannot always continue exactly)."""

    def __init__(self, down_s: float, up_s: float) -> None:
        super().__init__([("toy", "alpha"), ("toy", "beta")], rate_per_second=0.37)
        self.down_s, self.up_s = down_s, up_s
        self._handle: int | None = None

    def advance_to(self, t: float) -> None:
        super().advance_to(t)
        if self._handle is None and self.down_s <= t < self.up_s:
            scenario = Scenario(id="down", fault="target-down", target=Target(namespace="toy", workload="beta"))
            self._handle = self.apply_fault(scenario, None)
        elif self._handle is not None and t >= self.up_s:
            self.revert_fault(self._handle)
            self._handle = None


def streamed(cluster: SampledCluster, until_s: float, step_s: float, names: Collection[str], path: Path) -> str:
    write_openmetrics(sample_warmup(cluster, until_s, step_s, Whole(names)), unix_time_of, path)
    return path.read_text()


def test_streamed_file_is_the_reference_file_on_a_toy_cluster_with_gaps(tmp_path: Path) -> None:
    names = {"toy_requests_total", "toy_fault_level", "up"}
    expected = reference_openmetrics(reference_snapshots(FlakyToy(600.0, 1200.0), 3605.0, 30.0, names), unix_time_of)
    assert streamed(FlakyToy(600.0, 1200.0), 3605.0, 30.0, names, tmp_path / "w.om") == expected
    beta = [line for line in expected.splitlines() if line.startswith("toy_requests_total") and "beta" in line]
    assert len(beta) == 122 - 20  # every step but the 20 while beta was down


def test_streamed_file_is_the_reference_file_on_the_simulated_cluster(tmp_path: Path) -> None:
    # Counters, gauges, a CronJob's pods coming and going, every target's up.
    names = {
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kube_pod_status_phase",
        "kube_job_status_active",
        "kubelet_volume_stats_available_bytes",
        "up",
    }
    env = example_environment()
    expected = reference_openmetrics(reference_snapshots(SimulatedCluster(env), 1830.0, 30.0, names), unix_time_of)
    assert streamed(SimulatedCluster(env), 1830.0, 30.0, names, tmp_path / "w.om") == expected


def test_memory_held_follows_changes_not_samples() -> None:
    # Two days of three steady targets at a 30 s scrape: 5,761 samples a series, one run each.
    days = sample_warmup(ToyCluster([("toy", "alpha"), ("toy", "beta"), ("toy", "gamma")]), 2 * 86_400.0, 30.0)
    assert days.steps == 5_761 and len(days.tracks) == 9  # toy_requests_total, toy_fault_level, up per target
    assert days.segments() == 9
    requests = next(key for key in days.tracks if dict(key)["__name__"] == "toy_requests_total")
    assert list(days.tracks[requests].entries()) == [Run(0.0, 300.0, 5_761)]
    # A target down for a while: each of its series gets a gap and a second run, and up a run of zeros.
    flaky = sample_warmup(FlakyToy(3000.0, 6000.0), 2 * 86_400.0, 30.0, Whole({"toy_fault_level", "up"}))
    beta_up = next(key for key in flaky.tracks if dict(key)["__name__"] == "up" and dict(key)["job"] == "beta")
    assert list(flaky.tracks[beta_up].entries()) == [Run(1.0, 0.0, 100), Run(0.0, 0.0, 100), Run(1.0, 0.0, 5_561)]
    beta_level = next(key for key in flaky.tracks if dict(key).get("workload") == "beta")
    assert list(flaky.tracks[beta_level].entries()) == [Run(0.0, 0.0, 100), Gap(100), Run(0.0, 0.0, 5_561)]


@pytest.mark.parametrize(
    "values",
    [
        [0.1, 0.2, 0.30000000000000004, 0.4, 0.5],  # 0.1 + 2 * 0.1 is 0.30000000000000004: the run goes on
        [0.1, 0.2, 0.3, 0.4],  # 0.3 is not 0.1 + 2 * 0.1: a new run where the float sum would drift
        [1.0, float("nan"), float("nan"), 2.0],
        [float("inf"), float("inf"), -0.0, 0.0, 1e300, -1e300],
        [5.0, 5.0, 5.0, 7.0, 9.0, 11.0, 11.0],
    ],
)
def test_runs_give_back_exactly_the_values_sampled(values: list[float]) -> None:
    warmup = Warmup(30.0 * (len(values) - 1), 30.0)
    key = (("__name__", "x"),)
    for index, value in enumerate(values):
        warmup.add(index, key, value)
    back = [value for _, value in warmup.samples(key)]
    assert [format_value(v) for v in back] == [format_value(v) for v in values]
    assert all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(back, values, strict=True))


def test_steps_from_counts_the_grid_and_the_last_step() -> None:
    warmup = Warmup(95.0, 30.0)  # 0, 30, 60, 90, 95
    assert [warmup.steps_from(s) for s in (0.0, 1.0, 30.0, 89.9, 90.0, 94.0, 95.0, 95.1)] == [5, 4, 4, 2, 2, 1, 1, 0]
    assert Warmup(90.0, 30.0).steps == 4  # the end on the grid is not taken twice
