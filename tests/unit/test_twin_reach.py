"""How far back the rules read each metric (what of the warm-up is backfilled), and what the backfill will cost."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.static.cost import PYTHON_BASE_BYTES
from conformance.testing.toy import toy_cluster, toy_profile, toy_runs
from conformance.twin.backend import TwinBackend
from conformance.twin.backfill import first_kept_s, sample_warmup, write_openmetrics
from conformance.twin.cost import RUN_BYTES, WarmupEstimate, estimate_warmup
from conformance.twin.reach import Reach

MARGIN = 330.0
LIVE_PACK = Path(__file__).parent.parent / "integration" / "data" / "live" / "pack"


def pack_of(tmp_path: Path, *exprs: str, records: dict[str, str] | None = None) -> Pack:
    rules = [f"      - alert: A{index}\n        expr: '{expr}'\n" for index, expr in enumerate(exprs)]
    rules += [f"      - record: {name}\n        expr: '{expr}'\n" for name, expr in (records or {}).items()]
    path = tmp_path / "rules.yaml"
    path.write_text("groups:\n  - name: g\n    rules:\n" + "".join(rules))
    return load_pack(path)


def test_each_name_is_read_as_far_back_as_its_furthest_read(tmp_path: Path) -> None:
    pack = pack_of(
        tmp_path,
        "predict_linear(disk_free[6h], 3600) < 0",
        "rate(reqs[5m]) > 1",
        "cpu offset 10m > 1",
        "max_over_time(rate(net[2m])[30m:1m]) > 0",
        'count(ALERTS{alertstate="firing"}) > 0',
        "job:reqs:rate1h > 0",
        records={"job:reqs:rate1h": "rate(reqs[1h])"},
    )
    reach = Reach(pack, margin_s=MARGIN)
    assert reach.names == frozenset(
        {"disk_free", "reqs", "cpu", "net", "job:reqs:rate1h"}
    )  # not ALERTS: Prometheus writes it
    assert reach.seconds("disk_free") == 6 * 3600 + MARGIN
    assert reach.seconds("reqs") == 3600 + MARGIN  # the recording rule's window, not the alert's
    assert reach.seconds("cpu") == 600 + MARGIN
    assert reach.seconds("net") == 32 * 60 + MARGIN
    assert reach.seconds("unread") is None
    furthest = reach.furthest("reqs")
    assert furthest is not None and furthest[0].record == "job:reqs:rate1h" and furthest[1].back_s == 3600


def test_a_fixed_at_reads_everything_and_a_name_regex_any_name(tmp_path: Path) -> None:
    reach = Reach(pack_of(tmp_path, "pinned @ 1700000000 > 0", "now_only @ start() > 0"), margin_s=MARGIN)
    assert reach.seconds("pinned") == math.inf  # a moment the warm-up cannot place
    assert reach.seconds("now_only") == MARGIN  # start() and end() are the evaluation time
    regex = Reach(pack_of(tmp_path, 'rate({__name__=~"node_.*"}[15m]) > 0', "x > 0"), margin_s=MARGIN)
    assert regex.names is None  # any name may be read: the cluster is asked for every series
    assert regex.seconds("node_load1") == 900 + MARGIN and regex.seconds("x") == MARGIN
    assert regex.seconds("other") is None


def test_a_series_is_kept_from_where_the_rules_reach_exactly_as_sampled_whole(tmp_path: Path) -> None:
    pack = pack_of(
        tmp_path,
        "predict_linear(kubelet_volume_stats_available_bytes[30m], 3600) < 0",
        "rate(container_cpu_usage_seconds_total[5m]) > 1",
        "kube_pod_status_phase == 1",
    )
    reach = Reach(pack, margin_s=MARGIN)
    until = 2400.0
    kept = sample_warmup(SimulatedCluster(example_environment()), until, 30.0, reach)
    whole = sample_warmup(SimulatedCluster(example_environment()), until, 30.0)
    assert kept.tracks and set(kept.tracks) <= set(whole.tracks)
    for key in whole.tracks:
        name = dict(key)["__name__"]
        start = first_kept_s(name, reach, until)
        expected = [(at, value) for at, value in whole.samples(key) if at >= start]
        assert (list(kept.samples(key)) if key in kept.tracks else []) == expected, name
    starts = {dict(key)["__name__"]: next(kept.samples(key))[0] for key in kept.tracks}
    # The end less the window and the margin (the lookback delta and a scrape): 30 m, 5 m and an instant read.
    assert starts == {
        "kubelet_volume_stats_available_bytes": until - 1800.0 - MARGIN,
        "container_cpu_usage_seconds_total": until - 300.0 - MARGIN,
        "kube_pod_status_phase": until - MARGIN,
    }


def test_the_estimate_counts_the_samples_written(tmp_path: Path) -> None:
    pack = pack_of(tmp_path, "predict_linear(node_filesystem_avail_bytes[1h], 3600) < 0", "up == 0")
    reach = Reach(pack, margin_s=MARGIN)
    healthy = SimulatedCluster(example_environment())
    healthy.advance_to(30.0)
    found = estimate_warmup(healthy.stored_samples(), reach, 5400.0, 30.0)
    warmup = sample_warmup(SimulatedCluster(example_environment()), 5400.0, 30.0, reach)
    path = tmp_path / "w.om"
    assert write_openmetrics(warmup, lambda virtual: 1_700_000_000.0 + virtual, path) == found.samples
    assert found.series == len(warmup.tracks)
    assert found.file_bytes == pytest.approx(path.stat().st_size, rel=0.2)
    assert set(found.by_name) == {"node_filesystem_avail_bytes", "up"}


def test_a_warmup_over_the_budget_is_refused_before_anything_starts(tmp_path: Path, private_temp_dir: Path) -> None:
    shutil.copytree(LIVE_PACK, tmp_path / "pack")
    rules = tmp_path / "pack" / "rules.yaml"
    rules.write_text(
        rules.read_text().replace(
            'expr: toy_fault_level{workload="alpha"} > 0.5',
            'expr: max_over_time(toy_fault_level{workload="alpha"}[30d]) > 0.5',
        )
    )
    profile, pack = toy_profile(tmp_path / "pack")
    backend = TwinBackend(profile, pack, time_scale=20.0, cluster_factory=toy_cluster, budget_memory_bytes=256 * 2**20)
    try:
        outcome = backend.run(toy_runs(profile), status=lambda line: None)
    finally:
        backend.close()
    errors = {result.observation.error for result in outcome.results}
    assert len(errors) == 1
    (error,) = errors
    assert error is not None and "\n" not in error
    assert "would need about" in error and "(budget 256.0 MiB)" in error
    assert "toy_fault_level" in error and "ToyFaulty" in error and "[30d]" in error and "--budget-memory" in error
    assert all(lane.stack is None for lane in backend._lanes)  # nothing started: no process, no work folder
    assert not list(private_temp_dir.iterdir())
    assert backend.warmup_estimate is not None and backend.warmup_estimate.peak_bytes > 256 * 2**20


def test_the_run_budget_reaches_the_twin(tmp_path: Path) -> None:
    from conformance.backends import make_backend
    from conformance.options import Options
    from conformance.session import ConformanceSession

    profile, pack = toy_profile(LIVE_PACK)
    session = ConformanceSession(Options(profile="toy", budget_memory_bytes=3 * 2**30), profile, pack, tmp_path)
    backend = make_backend(session)
    assert isinstance(backend, TwinBackend) and backend.budget_memory_bytes == 3 * 2**30


def test_promtool_runs_side_by_side_as_far_as_the_budget_holds() -> None:
    found = WarmupEstimate(samples=100_000, series=100, file_bytes=100 * 2**20, by_name={"x": 100_000}, lanes=6)
    one = found.promtool_bytes
    assert found.peak_bytes == PYTHON_BASE_BYTES + found.runs_bytes + one  # the check: one promtool at a time
    room = PYTHON_BASE_BYTES + found.runs_bytes
    assert found.runs_bytes == 6 * 100_000 * RUN_BYTES  # every lane holds its warm-up at once
    assert found.promtool_slots(room + 3 * one) == 3
    assert found.promtool_slots(room + 30 * one) == 6  # never more than the lanes
    assert found.promtool_slots(room) == 1  # never fewer than one
