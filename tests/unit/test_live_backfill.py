"""The warm start: the healthy warm-up sampled, written as OpenMetrics, continued by the live clock."""

from __future__ import annotations

import math
from collections.abc import Collection
from pathlib import Path

import pytest

from conformance.sim.types import ScrapeTarget
from conformance.testing.toy import ToyCluster
from conformance.twin.backend import _max_range_s
from conformance.twin.backfill import SampledCluster, Warmup, sample_warmup, write_openmetrics
from conformance.twin.exporter import ClusterServer
from conformance.twin.promconfig import prometheus_config


class Whole:
    """A reach that reads ``names`` back through any warm-up (the whole of it is kept)."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = frozenset(names)

    def seconds(self, name: str) -> float | None:
        return math.inf if name in self.names else None


def test_warmup_sampled_on_the_grid_up_to_its_end() -> None:
    cluster = ToyCluster([("toy", "alpha")], rate_per_second=2.0)
    assert isinstance(cluster, SampledCluster)
    warmup = sample_warmup(cluster, 95.0, 30.0, Whole({"toy_requests_total"}))
    assert [warmup.at(k) for k in range(warmup.steps)] == [0.0, 30.0, 60.0, 90.0, 95.0]
    assert cluster.now == 95.0  # the live clock continues from here
    assert {dict(k)["__name__"] for k in warmup.tracks} == {"toy_requests_total"}  # only the names asked for
    (counter,) = warmup.tracks
    assert list(warmup.samples(counter)) == [(0.0, 0.0), (30.0, 60.0), (60.0, 120.0), (90.0, 180.0), (95.0, 190.0)]


def test_openmetrics_grouped_sorted_in_seconds_and_closed(tmp_path: Path) -> None:
    a = (("__name__", "b_metric"), ("pod", 'x"y\\z'))
    b = (("__name__", "a_metric"), ("pod", "p"))
    warmup = Warmup(30.0, 30.0)
    for index, samples in enumerate([{a: 1.0, b: 2.0}, {b: 3.5, a: float("nan")}]):
        for key, value in samples.items():
            warmup.add(index, key, value)
    path = tmp_path / "warmup.om.txt"
    assert write_openmetrics(warmup, lambda virtual: 1_700_000_000.0 + virtual / 20, path) == 4
    assert path.read_text().splitlines() == [
        'a_metric{pod="p"} 2 1700000000.000',
        'a_metric{pod="p"} 3.5 1700000001.500',
        'b_metric{pod="x\\"y\\\\z"} 1 1700000000.000',
        'b_metric{pod="x\\"y\\\\z"} NaN 1700000001.500',
        "# EOF",
    ]


def test_cluster_server_continues_from_the_warmup() -> None:
    now = [100.0]
    cluster = ToyCluster([("toy", "alpha")])
    cluster.advance_to(600.0)
    server = ClusterServer(cluster, 20.0, clock=lambda: now[0])
    try:
        assert server.virtual_now() == 0.0
        server.start(at_virtual_s=600.0)
        assert server.virtual_now() == 600.0
        now[0] += 2.0
        assert server.virtual_now() == 640.0
        # A virtual second maps to the wall time the live clock gives it: 600 s virtual is now, 0 s 30 s ago.
        assert server.unix_time_of(600.0) - server.unix_time_of(0.0) == pytest.approx(30.0)
    finally:
        server.stop()


def test_metric_drops_become_relabel_drops_for_their_targets_only() -> None:
    targets = [
        ScrapeTarget("kubelet-n", "kubelet", "/metrics", True, {"instance": "n"}),
        ScrapeTarget("cadvisor-n", "kubelet", "/metrics/cadvisor", True, {"instance": "n"}, metric_drop="a_.*|b"),
    ]
    config = prometheus_config(targets, "127.0.0.1:1", [], [], scrape_s=1.5, evaluation_s=1.5)
    by_path = {
        tuple(sc["labels"]["__metrics_path__"] for sc in job["static_configs"]): job for job in config["scrape_configs"]
    }
    assert len(by_path) == 2
    dropping = [job for job in config["scrape_configs"] if "metric_relabel_configs" in job]
    assert len(dropping) == 1 and len(dropping[0]["static_configs"]) == 1
    assert dropping[0]["metric_relabel_configs"] == [
        {"source_labels": ["__name__"], "regex": "a_.*|b", "action": "drop"}
    ]
    assert dropping[0]["static_configs"][0]["labels"]["job"] == "kubelet"


@pytest.mark.parametrize(
    ("expr", "over", "expected"),
    [
        ("rate(a[5m]) > 0 and max_over_time(b[10m]) > 1", None, 600.0),
        ("rate(a[5m]) > 0 and max_over_time(b[10m]) > 1", {"a"}, 300.0),
        ("count_over_time(ALERTS[3m]) > 0 and rate(a[10m]) > 0", {"ALERTS"}, 180.0),
        ("max_over_time(rate(recorded[1m])[15m:1m]) > 0", {"recorded"}, 900.0),
        ("rate({__name__=~'x.*'}[2m]) > 0", {"recorded"}, 120.0),  # a name regex may read a recorded series
        ("rate(a[5m]) > 0", {"recorded"}, 0.0),
    ],
)
def test_windows_left_to_fill_after_a_backfill(expr: str, over: set[str] | None, expected: float) -> None:
    assert _max_range_s(expr, over=over) == expected
