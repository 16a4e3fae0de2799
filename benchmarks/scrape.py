"""What the simulated cluster costs the live twin per scrape, for a profile (default runai).

* the scrape targets and the stored series of the healthy cluster (every series, and those the pack reads);
* CPU time of one scrape round (every target's exposition once, the clock moved half a second first), best of
  five: the twin's cluster server does this once per scrape interval per Prometheus replica and lane;
* the cluster server's CPU for one round over HTTP (exposition and HTTP exchange; the client in a child process),
  for every target and for the targets the pack's Prometheus scrapes (:mod:`conformance.twin.scraped`);
* the backfilled warm-up of ``--warmup`` virtual seconds (default one hour) on a 30 s grid, kept where the pack's
  rules reach (:mod:`conformance.twin.reach`): series, runs, OpenMetrics lines and size, sampling and writing time
  and the peak memory it adds to this process.

Usage: ``python benchmarks/scrape.py [--profile runai] [--warmup 3600]``
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance.model.workloads import Environment
from conformance.options import Options
from conformance.session import ConformanceSession
from conformance.sim import SimulatedCluster
from conformance.twin.backfill import sample_warmup, write_openmetrics
from conformance.twin.exporter import SCRAPER_PARAM, ClusterServer, target_path
from conformance.twin.reach import Reach
from conformance.twin.scraped import choosing_names, scraped
from conformance.twin.stack import LOOKBACK_DELTA_S

ROUNDS = 4
REPEATS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="runai")
    parser.add_argument("--warmup", type=float, default=3600.0, help="virtual seconds of warm-up backfilled")
    args = parser.parse_args()
    session = ConformanceSession.open(Options(profile=args.profile))
    try:
        environment, scrape_s = session.profile.environment, session.profile.scrape_interval_s
        reach = Reach(session.pack, margin_s=LOOKBACK_DELTA_S + scrape_s)  # as the twin backend's
        names = reach.names
    finally:
        session.close()

    cluster = SimulatedCluster(environment)
    cluster.advance_to(30.0)
    ids = [target.id for target in cluster.targets()]
    stored = cluster.stored_samples()
    read = cluster.stored_samples(None if names is None else {*names, "up"})
    print(f"{args.profile}: {len(ids)} scrape targets, {len(stored)} stored series, {len(read)} read by the pack")

    best = float("inf")
    for _ in range(REPEATS):
        mark = time.process_time()
        for _ in range(ROUNDS):
            cluster.advance_to(cluster.now + 0.5)
            for target_id in ids:
                cluster.exposition(target_id)
        best = min(best, (time.process_time() - mark) / ROUNDS)
    print(f"CPU per scrape round (every target once, best of {REPEATS}): {best * 1000:.1f} ms")
    chosen = [target.id for target in scraped(cluster, choosing_names(names))]
    for label, round_ids in (("every target", ids), (f"the {len(chosen)} scraped", chosen)):
        print(f"server CPU per round over HTTP, {label}: {_served_round_s(environment, round_ids) * 1000:.1f} ms")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mark = time.monotonic()
    warmup = sample_warmup(SimulatedCluster(environment), args.warmup, 30.0, reach)
    sampled_s = time.monotonic() - mark
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "warmup.om.txt"
        lines = write_openmetrics(warmup, lambda virtual_s: 1.7e9 + virtual_s, path)
        size = path.stat().st_size
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(
        f"warm-up of {args.warmup:g} s: {len(warmup.tracks)} series in {warmup.segments()} runs, "
        f"{lines} lines ({size / 2**20:.1f} MiB) of OpenMetrics, sampled in {sampled_s:.1f} s, "
        f"written in {time.monotonic() - mark - sampled_s:.1f} s, peak memory +{grown:.0f} MiB"
    )


def _served_round_s(environment: Environment, ids: list[str]) -> float:
    """The cluster server's CPU for one round of scrapes of ``ids`` over HTTP, averaged over ROUNDS * REPEATS."""
    server = ClusterServer(SimulatedCluster(environment), 20.0, scrape_interval_s=0.75).start()
    try:
        paths = [f"{target_path(target_id)}?{SCRAPER_PARAM}=benchmark" for target_id in ids]
        client = (
            "import http.client, sys\n"
            f"host, port = {server.address!r}.split(':')\n"
            "for _ in range(int(sys.argv[1])):\n"
            f"    for path in {paths!r}:\n"
            "        c = http.client.HTTPConnection(host, int(port)); c.request('GET', path); c.getresponse().read()\n"
            "        c.close()\n"
        )
        subprocess.run([sys.executable, "-c", client, "1"], check=True)  # warm
        mark = time.process_time()
        subprocess.run([sys.executable, "-c", client, str(ROUNDS * REPEATS)], check=True)
        return (time.process_time() - mark) / (ROUNDS * REPEATS)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
