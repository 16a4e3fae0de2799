"""A target leaving the twin's discovery, with the real Prometheus: the scheduler the simulated cluster stops
(control-plane-down) goes from Prometheus's targets with its series marked stale, and comes back on revert, each
within Prometheus's discovery timers (two 5 s ticks) and a few scrapes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from conformance.model.scenario import Scenario, Target
from conformance.observe.expectations import DISCOVERY_WALL_S
from conformance.packs.model import Pack, Rule, RuleGroup
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.twin.stack import StackSettings, TwinStack

pytestmark = [pytest.mark.needs_binaries, pytest.mark.live]

SCALE = 20.0
SCRAPE_S = 30.0
WAIT_S = 60.0


def _query(stack: TwinStack, expr: str) -> list[object]:
    body = requests.get(f"{stack.prometheus_url}/api/v1/query", params={"query": expr}, timeout=5).json()
    result: list[object] = body["data"]["result"]
    return result


def _until(condition: Callable[[], bool], what: str) -> float:
    """Wall seconds until ``condition`` holds (polled every 0.1 s), failing after :data:`WAIT_S`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > WAIT_S:
            pytest.fail(f"{what}: not within {WAIT_S:g}s")
        time.sleep(0.1)
    return time.monotonic() - start


def test_a_stopped_scheduler_leaves_discovery_stale_and_comes_back() -> None:
    rule = Rule('absent(up{job="kube-scheduler"})', "g", "rules.yaml", None, alert="SchedulerGone")
    pack = Pack(Path("."), (RuleGroup("g", (rule,), "rules.yaml"),), (), ())
    settings = StackSettings(
        scale=SCALE,
        scrape_s=SCRAPE_S,
        scraped_names=frozenset({"scheduler_schedule_attempts_total"}),  # the control plane's targets only
        discovered_jobs=frozenset({"kube-scheduler"}),
    )
    scrape_wall = SCRAPE_S / SCALE
    with TwinStack(SimulatedCluster(example_environment()), pack, settings) as stack:
        _until(lambda: len(_query(stack, 'up{job="kube-scheduler"} == 1')) == 1, "the scheduler scraped")
        with stack.cluster_server.at_now() as cluster:
            handle = cluster.apply_fault(Scenario("s", "control-plane-down", Target(component="kube-scheduler")), None)
        assert stack.rediscover()
        gone_s = _until(lambda: bool(_query(stack, 'absent(up{job="kube-scheduler"})')), "up absent")
        targets = requests.get(f"{stack.prometheus_url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
        assert not [t for t in targets if t["labels"].get("job") == "kube-scheduler"]
        assert _query(stack, 'up{job="kube-controller-manager"} == 1')  # the other components stay
        with stack.cluster_server.at_now() as cluster:
            cluster.revert_fault(handle)
        assert stack.rediscover()
        back_s = _until(lambda: len(_query(stack, 'up{job="kube-scheduler"} == 1')) == 1, "up back")
    print(f"\nscrape interval {scrape_wall:g}s wall: gone after {gone_s:.1f}s, back after {back_s:.1f}s")
    # A stale marker, not the lookback delta (5m / 20 = 15 s wall after the last scrape), ends the series.
    assert gone_s <= DISCOVERY_WALL_S + 3 * scrape_wall
    assert back_s <= DISCOVERY_WALL_S + 2 * scrape_wall
