"""Leaving out the part of the warm-up no rule reads changes nothing Prometheus computes: the same expressions,
evaluated by a real Prometheus from the end of the warm-up on, over the warm-up backfilled whole and over it kept
only from where the rules reach (:mod:`conformance.twin.reach`), give the same results, value for value."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from conformance.packs.loader import load_pack
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.tools import find_tool
from conformance.twin.backfill import create_blocks, sample_warmup, write_openmetrics
from conformance.twin.processes import ManagedProcess, free_port
from conformance.twin.reach import Reach
from conformance.twin.stack import LOOKBACK_DELTA_S

pytestmark = pytest.mark.needs_binaries("promtool", "prometheus")

UNTIL_S = 3600.0
SCRAPE_S = 30.0
#: What the rules compute: windows from an instant to 40 minutes, an offset, a subquery, a regex on names.
EXPRESSIONS = [
    "predict_linear(kubelet_volume_stats_available_bytes[40m], 3600)",
    "rate(container_cpu_usage_seconds_total[5m])",
    "max_over_time(kube_pod_status_phase[10m])",
    "changes(up[15m])",
    "count_over_time(container_memory_working_set_bytes[20m])",
    "kube_pod_status_phase offset 5m",
    "avg_over_time(rate(container_cpu_usage_seconds_total[2m])[15m:1m])",
    "up",
]
#: Evaluation times after the warm-up's end (Prometheus only evaluates rules from its start on), in seconds.
AFTER_S = [0.0, 1.0, 30.0, 299.0, 600.0]


def _query(url: str, expr: str, at: float) -> list[tuple[tuple[tuple[str, str], ...], Any]]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}, timeout=10).json()
    assert body["status"] == "success", body
    return sorted((tuple(sorted(item["metric"].items())), item["value"][1]) for item in body["data"]["result"])


def _prometheus(home: Path, name: str) -> tuple[ManagedProcess, str]:
    (home / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    port = free_port()
    process = ManagedProcess(
        name,
        [
            str(find_tool("prometheus")),
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--query.lookback-delta={int(LOOKBACK_DELTA_S)}s",
        ],
        home / "prometheus.log",
        home,
    ).start()
    return process, f"http://127.0.0.1:{port}"


def test_rules_read_the_same_from_a_warmup_kept_from_where_they_reach(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "groups:\n  - name: g\n    rules:\n"
        + "".join(f"      - alert: A{index}\n        expr: '{expr}'\n" for index, expr in enumerate(EXPRESSIONS))
    )
    reach = Reach(load_pack(rules), margin_s=LOOKBACK_DELTA_S + SCRAPE_S)
    end = time.time() - 60.0  # the warm-up ends a minute ago: every evaluation time below is in the past
    promtool = find_tool("promtool")
    homes = {"whole": tmp_path / "whole", "reach": tmp_path / "reach"}
    lines = {}
    for kind, home in homes.items():
        home.mkdir()
        warmup = sample_warmup(
            SimulatedCluster(example_environment()), UNTIL_S, SCRAPE_S, reach if kind == "reach" else None
        )
        source = home / "warmup.om.txt"
        lines[kind] = write_openmetrics(warmup, lambda virtual: end + virtual - UNTIL_S, source)
        create_blocks(source, home / "data", promtool)
    assert lines["reach"] < lines["whole"] / 3  # most of the warm-up left out, or this test would prove little

    processes = []
    try:
        urls = {}
        for kind, home in homes.items():
            process, urls[kind] = _prometheus(home, f"prometheus-{kind}")
            processes.append(process)
            process.wait_ready(f"{urls[kind]}/-/ready", 30.0)
        compared = 0
        for expr in EXPRESSIONS:
            for after in AFTER_S:
                whole = _query(urls["whole"], expr, end + after)
                assert _query(urls["reach"], expr, end + after) == whole, (expr, after)
                compared += len(whole)
        assert compared > 200  # the expressions found series at those times
        # and the far past really is gone from the second one
        far = f"count_over_time(container_cpu_usage_seconds_total[{int(UNTIL_S)}s])"
        assert _query(urls["reach"], far, end) != _query(urls["whole"], far, end)
    finally:
        for process in processes:
            process.stop()
