"""The live twin end to end with real Prometheus and Alertmanager binaries.

The toy pack (``data/live``) over :class:`~conformance.testing.toy.ToyCluster` proves the machinery quickly:
two Alertmanager set-ups, receivers of every kind re-pointed, an aggregate alert in its own lane, resolved
notifications. The aistore profile proves it against the real simulated cluster and depth 3's own prediction.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import pytest
import requests

from conformance.testing.toy import ToyCluster, toy_cluster, toy_profile, toy_runs
from conformance.twin import processes as processes_module
from conformance.twin import stack as stack_module
from conformance.twin.backend import TwinBackend
from conformance.twin.backfill import Warmup, first_kept_s
from conformance.twin.processes import TEMP_PREFIX
from conformance.twin.selfscrape import SelfJobs
from conformance.twin.stack import StackSettings, TwinStack

pytestmark = [pytest.mark.needs_binaries, pytest.mark.live]

DATA = Path(__file__).parent / "data" / "live"
SCALE = 20.0
#: the longest wait for a condition of a running stack (a few seconds unloaded)
WAIT_S = 60.0


def _twin_dirs(temp: Path) -> list[str]:
    return sorted(p.name for p in temp.glob(f"{TEMP_PREFIX}*"))


def test_toy_pack_every_alert_notified_in_time_at_both_setups(private_temp_dir: Path) -> None:
    profile, pack = toy_profile(DATA / "pack")
    runs = toy_runs(profile)
    backend = TwinBackend(profile, pack, time_scale=SCALE, cluster_factory=toy_cluster)
    lines: list[str] = []
    during: list[str] = []

    def status(line: str) -> None:
        lines.append(line)
        during[:] = during or _twin_dirs(private_temp_dir)  # the lanes' work folders, once the run is under way

    try:
        outcome = backend.run(runs, status=status)
    finally:
        backend.close()
    verdicts = {result.run.alert.name: result.verdict() for result in outcome.results}
    assert {name: v.outcome for name, v in verdicts.items()} == {
        "ToyFaulty": "pass",
        "ToyDown": "pass",
        "ToyAnyCritical": "pass",
    }, "\n".join(v.message() for v in verdicts.values())
    # Both documented set-ups were proven: each got its own Alertmanager and its own notification.
    assert set(verdicts["ToyDown"].receivers) == {"main/pager", "secret/everything"}
    down = outcome.results[1].observation
    assert any(n.status == "resolved" and n.receiver == "main/pager" for n in down.notifications)
    assert [event for _, event in down.timeline][:2] == ["pending", "firing"]
    # Receivers of every kind became capture webhooks, reported as rewritten.
    described = [r.describe() for r in backend.rewrites]
    assert any("pagerduty -> webhook" in d for d in described)
    assert any("route.group_wait: 20s -> 1s" in d for d in described)
    assert any("pending" in line and "notified" in line for line in lines)
    # The aggregate ran in a lane of its own; all lanes are gone afterwards. The folders are this test's own
    # (see private_temp_dir): another xdist worker's live run cannot make this pass or fail.
    assert backend.phases.keys() >= {"start", "healthy period", "faults", "stop"}
    assert during, "the lanes' work folders were not made in this test's temp folder"
    assert _twin_dirs(private_temp_dir) == []


def test_pack_that_can_never_fire_fails_naming_the_alert() -> None:
    profile, pack = toy_profile(DATA / "broken-pack")
    runs = [run for run in toy_runs(profile) if run.alert.name == "ToyFaulty"]
    backend = TwinBackend(profile, pack, time_scale=SCALE, cluster_factory=toy_cluster)
    try:
        (result,) = backend.run(runs, status=lambda line: None).results
    finally:
        backend.close()
    verdict = result.verdict()
    assert verdict.outcome == "fail"
    assert "ToyFaulty[warning]:error-rate: no notification reached main/team-email" in verdict.message()


def test_per_second_rates_are_kept_at_scale() -> None:
    _, pack = toy_profile(DATA / "pack")
    cluster = ToyCluster([("toy", "gamma")], rate_per_second=10.0)
    with TwinStack(cluster, pack, StackSettings(scale=SCALE)) as stack:
        query = '(rate(toy_requests_total{workload="gamma"}[3s]) / 20)'  # what rate(...[1m]) became
        value = None
        # Let two full windows of samples exist: a window's first rate is extrapolated from a partial series.
        # Deadlines, not sleeps: generous for a loaded machine, and each wait checks it got what it waited for.
        deadline = time.monotonic() + WAIT_S
        while stack.cluster_server.scrapes("toy/gamma") < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stack.cluster_server.scrapes("toy/gamma") >= 10, f"fewer than 10 scrapes in {WAIT_S:g}s"
        deadline = time.monotonic() + WAIT_S
        while value is None and time.monotonic() < deadline:
            body = requests.get(f"{stack.prometheus_url}/api/v1/query", params={"query": query}, timeout=5).json()
            result = body["data"]["result"]
            value = float(result[0]["value"][1]) if result else None
            time.sleep(0.3)
        rules = requests.get(f"{stack.prometheus_url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    assert value is not None and value == pytest.approx(10.0, rel=0.15)
    exprs = {r["name"]: r["query"] for g in rules for r in g["rules"]}
    assert exprs["ToyTrafficHigh"].startswith('(rate(toy_requests_total{workload="gamma"}[3s]) / 20)')


def test_real_simulated_cluster_and_depth3_prediction() -> None:
    from conformance.options import Options
    from conformance.session import ConformanceSession

    session = ConformanceSession.open(Options(profile="aistore", time_scale=60.0))
    try:
        runs = [run for run in session.scenario_runs() if run.alert.name == "AIStoreVolumeNearlyFull"]
        assert runs and runs[0].prediction.fire_after_s is not None
        backend = TwinBackend(session.profile, session.pack, time_scale=60.0)
        try:
            (result,) = backend.run(runs, status=lambda line: None).results
        finally:
            backend.close()
        verdict, observation = result.verdict(), result.observation
        assert verdict.outcome == "pass", verdict.message()
        labels = observation.notifications[0].alerts[0]["labels"]
        assert labels["persistentvolumeclaim"] == "ais-data-ais-target-0"
    finally:
        session.close()


def test_backfilled_warmup_and_live_scrapes_are_one_series_each() -> None:
    """Series identities, metric drops and counters of the backfill match what the live scrapes store."""
    from conformance.options import Options
    from conformance.session import ConformanceSession
    from conformance.sim.cluster import KPS_CADVISOR_DROP, SimulatedCluster

    session = ConformanceSession.open(Options(profile="runai", time_scale=SCALE))
    try:
        backend = TwinBackend(session.profile, session.pack, time_scale=SCALE)
        backend.select(session.live_runs())  # the warm-up backfilled is what the runs' alerts read
        settings = backend._settings("twin-test", backfill=True)
        reach = settings.backfill_reach
        assert reach is not None and reach.names is not None and "container_cpu_usage_seconds_total" in reach.names
        with TwinStack(SimulatedCluster(session.profile.environment), session.pack, settings) as stack:
            assert stack.backfilled_s == settings.backfill_s > 0
            server = stack.cluster_server
            targets = [t.id for t in stack.scraped_targets()]  # only those whose series the rules read
            deadline = time.monotonic() + WAIT_S
            while min(server.scrapes(t) for t in targets) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert min(server.scrapes(t) for t in targets) >= 2, f"not every target scraped twice in {WAIT_S:g}s"
            # Long enough to reach back before the backfill's first sample: every sample Prometheus holds.
            window = f"{int(settings.backfill_s / SCALE) + 60}s"
            names = sorted(reach.names)

            def query(expr: str) -> list[dict[str, object]]:
                body = requests.get(f"{stack.prometheus_url}/api/v1/query", params={"query": expr}, timeout=5).json()
                assert body["status"] == "success", body
                return list(body["data"]["result"])

            def number(expr: str) -> float:
                result = query(expr)
                return float(result[0]["value"][1]) if result else 0.0  # type: ignore[index]

            grid = Warmup(settings.backfill_s, settings.scrape_s)
            held = live = 0.0
            # The real Prometheus and Alertmanager, scraped as themselves on loopback, are live only: never backfilled.
            simulated = '{instance!~"127\\\\.0\\\\.0\\\\.1:.*"}'
            for name in names:
                series = name + simulated
                # One identity per series: had the live scrapes stored other labels, each would be two series.
                held += number(f"count(count_over_time({series}[{window}]))")
                live += number(f"count({series})")
                # Every series has the warm-up from where the rules reach into it, plus live samples (none is
                # made of backfill alone).
                if number(f"count({series})"):
                    steps = grid.steps_from(first_kept_s(name, reach, settings.backfill_s))
                    assert steps > 1 and number(f"min(count_over_time({series}[{window}]))") >= steps + 1, name
            assert held == live == stack.backfilled_series
            # Counters carry on without a reset across the start of the live scrapes.
            resets = query(f"sum(resets(container_cpu_usage_seconds_total[{window}]))")
            assert float(resets[0]["value"][1]) == 0.0  # type: ignore[index]
            # The ServiceMonitor's metric drops hold live too: served by cAdvisor, never stored.
            served = server.cluster.exposition(next(t for t in targets if t.startswith("cadvisor-")))
            assert served is not None and "container_cpu_system_seconds_total{" in served
            assert re.fullmatch(KPS_CADVISOR_DROP, "container_cpu_system_seconds_total")
            assert query("count(container_cpu_system_seconds_total)") == []
    finally:
        session.close()


@contextlib.contextmanager
def _taken_port(monkeypatch: pytest.MonkeyPatch, given_at: Collection[int]) -> Iterator[int]:
    """A port another process listens on, handed to the stack by its port picks numbered ``given_at`` (from 1)."""
    picks = itertools.count(1)
    real_free_port = processes_module.free_port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = int(holder.getsockname()[1])
        monkeypatch.setattr(stack_module, "free_port", lambda: taken if next(picks) in given_at else real_free_port())
        yield taken


def test_a_child_whose_port_was_taken_is_started_again_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process on the machine may bind a picked port before the child does: the child exits with
    # "address already in use" and the stack must start it again on another port, not fail the run.
    _, pack = toy_profile(DATA / "pack")
    cluster = ToyCluster([("toy", "gamma")], rate_per_second=1.0)
    # One pick per set-up's Alertmanager, then the first one's restart, then Prometheus: the first
    # Alertmanager and Prometheus are given the taken port.
    with (
        _taken_port(monkeypatch, (1, len(pack.setups) + 2)) as taken,
        TwinStack(cluster, pack, StackSettings(scale=SCALE)) as stack,
    ):
        urls = [am.url for am in stack.alertmanagers] + [stack.prometheus_url]
        assert all(f":{taken}" not in url for url in urls), urls
        for url in urls:
            assert requests.get(f"{url}/-/ready", timeout=5).status_code == 200
        first_alertmanager, prometheus = stack.alertmanagers[0].process, stack.prometheuses[0].process
        logs = [first_alertmanager.log_tail(20000), prometheus.log_tail(20000)]
    assert all("address already in use" in log for log in logs), "the first start did not meet the taken port"


def test_a_prometheus_replica_started_again_elsewhere_is_scraped_at_its_new_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The replicas scrape each other as themselves (the self-scrape): the first one started with the second's
    # picked port in its configuration, so when the second is started again on a fresh port, the first must be
    # told (configuration written again, reloaded) or it scrapes a dead address for the whole run.
    _, pack = toy_profile(DATA / "pack")
    # One pick per set-up's Alertmanager, then both replicas' ports: the second replica is given the taken one.
    with _taken_port(monkeypatch, (len(pack.setups) + 2,)) as taken:
        settings = StackSettings(
            scale=SCALE, prometheus_replicas=2, self_jobs=SelfJobs("prometheus-k8s", "alertmanager-main")
        )
        with TwinStack(ToyCluster([("toy", "gamma")], rate_per_second=1.0), pack, settings) as stack:
            first, second = stack.prometheuses
            moved = second.url.removeprefix("http://")
            assert f":{taken}" not in moved and "address already in use" in second.process.log_tail(20000)
            deadline = time.monotonic() + WAIT_S
            scraped: set[str] = set()
            while moved not in scraped and time.monotonic() < deadline:
                body = requests.get(f"{first.url}/api/v1/targets", timeout=5).json()
                scraped = {t["labels"]["instance"] for t in body["data"]["activeTargets"]}
                time.sleep(0.2)
            assert moved in scraped and f"127.0.0.1:{taken}" not in scraped, sorted(scraped)
