"""The healthy twin under kube-prometheus's whole default rule pack: nothing pending or firing but the alerts that
always fire.

The simulated cluster has to serve every target and family a default kube-prometheus-stack install has, with the
real Prometheus and Alertmanager scraped as themselves, for the pack's ``absent(up{job=...})`` alerts and its
ratios to stay quiet. The pack is never committed (see ``tests/data/kube-prometheus/README.md``): without it the
test skips, saying where to put it.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from conformance.packs.loader import load_pack
from conformance.profiles import load_profile
from conformance.sim import SimulatedCluster
from conformance.twin.backend import TwinSources
from conformance.twin.reach import Reach
from conformance.twin.selfscrape import jobs_selected_by
from conformance.twin.stack import LOOKBACK_DELTA_S, StackSettings, TwinStack

pytestmark = [pytest.mark.needs_binaries("prometheus", "alertmanager", "promtool"), pytest.mark.live]

PROFILE = Path(__file__).parents[1] / "data" / "kube-prometheus"
PACK = PROFILE / "pack"
#: A scrape timeout is one scaled interval: at 15 a loaded machine still answers every scrape in time.
SCALE = 15.0
#: Healthy virtual time backfilled: the 5 to 15 minute windows of the pack's alerts are full from the start.
BACKFILL_S = 1200.0
#: Evaluations watched once every target was scraped twice (a first rate needs two live samples).
EVALUATIONS = 10
WAIT_S = 90.0
#: Alerts that fire on every healthy cluster by design: Watchdog always, InfoInhibitor while an info alert fires.
ALWAYS_FIRING = {"Watchdog", "InfoInhibitor"}


#: The environments judged: the upstream profile's, and the bundled profile's (autoscalers, quotas, disruption
#: budgets, kube-state-metrics' self-monitoring, the stand-ins: every kind of object the twin simulates).
ENVIRONMENTS = [pytest.param(str(PROFILE), id="upstream-profile"), pytest.param("kube-prometheus", id="bundled")]


@pytest.mark.parametrize("profile_name", ENVIRONMENTS)
def test_healthy_twin_raises_nothing_but_the_always_firing_alerts(profile_name: str) -> None:
    if not any(PACK.glob("*-prometheusRule.yaml")):
        pytest.skip(f"the kube-prometheus pack is not in {PACK} (never committed): see {PROFILE / 'README.md'}")
    profile = load_profile(profile_name)
    pack = load_pack(PACK)
    settings = StackSettings(
        scale=SCALE,
        scrape_s=profile.scrape_interval_s,
        evaluation_s=profile.evaluation_interval_s,
        label="twin-noise",
        backfill_s=BACKFILL_S,
        backfill_reach=Reach(pack, margin_s=LOOKBACK_DELTA_S + profile.scrape_interval_s),
        prometheus_name=f"{profile.environment.monitoring_namespace}/k8s",
        self_jobs=jobs_selected_by(pack),
    )
    noise: dict[str, str] = {}
    seen: dict[str, dict[str, str]] = {}  # an instance of each, to name it in the failure
    with TwinStack(SimulatedCluster(profile.environment), pack, settings) as stack:
        server = stack.cluster_server
        targets = [target.id for target in server.cluster.targets()]
        deadline = time.monotonic() + WAIT_S
        while min(server.scrapes(t) for t in targets) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert min(server.scrapes(t) for t in targets) >= 2, f"not every target scraped twice in {WAIT_S:g}s"
        sources = TwinSources(stack)
        until = time.monotonic() + EVALUATIONS * profile.evaluation_interval_s / SCALE
        while time.monotonic() < until:
            for labels, state in sources.prometheus_alerts() or []:
                name = labels.get("alertname", "")
                if noise.get(name) != "firing":
                    noise[name] = state
                    seen[name] = labels
            time.sleep(0.2)
        up = _query(stack.prometheus_url, "count by (job) (up == 1)")
    jobs = {sample["metric"]["job"] for sample in up}
    # Every job the pack's absent() and ratio alerts read is scraped and up, the real processes included.
    assert {"apiserver", "kube-controller-manager", "kube-scheduler", "prometheus-k8s", "alertmanager-main"} <= jobs
    assert "Watchdog" in noise, "the always-firing Watchdog never fired: were the rules evaluated?"
    extra = {name: (noise[name], seen[name]) for name in sorted(set(noise) - ALWAYS_FIRING)}
    assert not extra, f"noise on the healthy twin: {extra}"


def _query(url: str, expr: str) -> list[dict[str, dict[str, str]]]:
    body = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])
