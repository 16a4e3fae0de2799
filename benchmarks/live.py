"""Figures of the live twin for a profile (default runai).

* wall time of the whole live run at the default time scale, with the profile's high availability (its
  replicas, and the replica-loss scenarios) and without it (one Prometheus, one Alertmanager per set-up), and
  the difference (target: at most 30 s);
* of the run with high availability, and its ratio to the slowest measured notification
  and to the slowest complete cycle (the last notification a run waits for: its firing notification and, where
  the receiver sends resolved notifications, the resolved one after the revert). A profile should take about as
  long as its slowest alert (target at most 1.3); since the suite must also see the resolved notification, the
  target is judged against the complete cycle, and both ratios are printed;
* at ``--time-scale 1`` for the alert with the shortest predicted time-to-fire: measured minus predicted notify
  time, against the pipeline budget;
* peak memory of each live run's whole process tree (this Python process and every Prometheus, Alertmanager and
  promtool it starts), sampled while it runs, with its backfilled warm-up (samples written, the runs of samples
  held, the estimate the budget was checked against); and each process's own peak.

Usage: ``python benchmarks/live.py [--profile runai] [--alert-pack DIR] [--skip-real-time]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from pathlib import Path

from conformance.model.run import ScenarioRun
from conformance.observe.backend import RunResult
from conformance.options import DEFAULT_TIME_SCALE, Options
from conformance.session import ConformanceSession
from conformance.twin.backend import TwinBackend


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


class TreeMemory:
    """The peak memory of this process and all its descendants together, sampled every ``interval_s``.

    Two sums over the processes alive at each sample: the proportional set size (a page shared by N processes,
    such as the code of the Prometheus binary that every replica maps, counts 1/N to each: what the processes
    take together) and the resident set size (shared pages counted in every process: an upper bound). A process
    that lives less than an interval may be missed; promtool backfilling a warm-up lives for seconds.
    """

    def __init__(self, interval_s: float = 0.25) -> None:
        self.interval_s = interval_s
        self.peak_pss = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="tree-memory", daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample_until_stopped(self) -> None:
        while True:
            pss = rss = 0
            for pid in _tree(os.getpid()):
                found = _rollup(pid)
                pss, rss = pss + found.get("Pss", 0), rss + found.get("Rss", 0)
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            if self._stop.wait(self.interval_s):
                return


def _tree(root: int) -> list[int]:
    """``root`` and every process descending from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone since the listing
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the command may hold spaces and parentheses
        children.setdefault(parent, []).append(int(entry.name))
    found, index = [root], 0
    while index < len(found):
        found.extend(children.get(found[index], []))
        index += 1
    return found


def _rollup(pid: int) -> dict[str, int]:
    """The process's memory totals in bytes (``Rss``, ``Pss``, ...); empty once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {}
    totals: dict[str, int] = {}
    for line in text.splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields = rest.split()
        if len(fields) == 2 and fields[1] == "kB":
            totals[name] = int(fields[0]) * 1024
    return totals


def _run(
    session: ConformanceSession, runs: list[ScenarioRun], scale: float, *, high_availability: bool = True
) -> tuple[TwinBackend, list[RunResult], TreeMemory]:
    backend = TwinBackend(
        session.profile,
        session.pack,
        time_scale=scale,
        tools=dict(session.options.tools),
        high_availability=high_availability,
        budget_memory_bytes=session.options.budget_memory_bytes,
    )
    try:
        with TreeMemory() as memory:
            outcome = backend.run(runs, status=lambda line: print("\r\x1b[K" + line, end="", file=sys.stderr))
    finally:
        print("\r\x1b[K", end="", file=sys.stderr)
        backend.close()
    return backend, outcome.results, memory


def _memory_lines(label: str, backend: TwinBackend, memory: TreeMemory) -> list[str]:
    lines = [
        f"  peak memory of the {label} (whole process tree): {_mib(memory.peak_pss)} proportional "
        f"({_mib(memory.peak_rss)} resident, shared pages counted in every process)"
    ]
    estimate = backend.warmup_estimate
    if estimate is not None:
        lines.append(
            f"    warm-up per lane: {backend.backfilled_samples:,} samples written, held as "
            f"{backend.backfilled_runs:,} runs; estimated {estimate.samples:,} samples, "
            f"{_mib(estimate.file_bytes)} of OpenMetrics, peak {_mib(estimate.peak_bytes)} "
            f"(budget {_mib(backend.budget_memory_bytes)}); backfill wall seconds per lane "
            f"(its waits for the others included): {backend.backfill_wall_s}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="runai")
    parser.add_argument("--alert-pack", type=Path, help="a pack to prove instead of the profile's reference pack")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--skip-real-time", action="store_true", help="skip the --time-scale 1 measurement")
    args = parser.parse_args(argv)

    options = Options(profile=args.profile, alert_pack=args.alert_pack, time_scale=args.time_scale)
    session = ConformanceSession.open(options)
    try:
        started = time.monotonic()
        runs = session.live_runs()
        print(f"depth 3 predictions for {len(runs)} scenario runs: {time.monotonic() - started:.1f}s")

        ha = session.ha_runs()
        plain, plain_results, plain_memory = _run(session, runs, args.time_scale, high_availability=False)
        plain_wall = plain.wall_s or 0.0
        plain_passed = sum(1 for result in plain_results if result.verdict().outcome == "pass")
        backend, results, memory = _run(session, ha, args.time_scale)
        wall = backend.wall_s or 0.0
        losing = sum(1 for run in ha if run.losses)
        repeats = sum(1 for run in ha if run.repeat)
        print(f"without high availability: {plain_passed}/{len(plain_results)} runs pass, wall time {plain_wall:.1f}s")
        print("\n".join(_memory_lines("run without high availability", plain, plain_memory)))
        print(
            f"with high availability ({losing} runs losing replicas, {repeats} of them repeats, "
            f"{backend.lane_count} lanes): wall time {wall:.1f}s, {wall - plain_wall:+.1f}s  (target <= +30s)"
        )
        verdicts = [result.verdict() for result in results]
        observations = [result.observation for result in results]
        notified = [o.notified_s for o in observations if o.notified_s is not None]
        slowest = max(notified, default=0.0)
        cycle = max((n.at_s for o in observations for n in o.notifications), default=0.0)
        passed = sum(1 for v in verdicts if v.outcome == "pass")
        print(f"profile {args.profile} at time scale {args.time_scale:g}: {passed}/{len(verdicts)} runs pass")
        for verdict in verdicts:
            if verdict.outcome != "pass":
                print(f"  {verdict.outcome}: {verdict.run_id}: {'; '.join(verdict.problems)[:300]}")
        print(f"  wall time of the live run: {wall:.1f}s  (phases: {backend.phases})")
        print(
            f"  warm-up backfilled: {backend.backfilled_s:g}s virtual; healthy period judged: {backend.healthy_s:.1f}s"
        )
        print(f"  slowest measured notify (from the fault): {slowest:.1f}s")
        print(f"  slowest complete cycle (notified, then resolved notified where sent): {cycle:.1f}s")
        if slowest:
            print(f"  ratio wall / slowest notify: {wall / slowest:.2f}")
        if cycle:
            print(f"  ratio wall / slowest complete cycle: {wall / cycle:.2f}  (target <= 1.3)")
        print("\n".join(_memory_lines("live run", backend, memory)))
        children = sum(backend.peak_rss.values())
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(
            f"  each process's own peak (resident, summed: an upper bound): twin {_mib(own)} (the whole script, "
            f"depth 3 included) + Prometheus/Alertmanager {_mib(children)} = {_mib(own + children)}"
        )
        for name, size in sorted(backend.peak_rss.items()):
            print(f"    {name}: {_mib(size)}")

        if not args.skip_real_time:
            timed = [r for r in runs if r.prediction.fire_after_s is not None]
            if timed:
                short = min(timed, key=lambda r: r.prediction.fire_after_s or 0.0)
                backend, (result,), _ = _run(session, [short], 1.0)
                expectation, observation, verdict = result.expectation, result.observation, result.verdict()
                predicted = expectation.fire_s or 0.0
                budget = max((expectation.budget_s(r, False) for r in expectation.receivers), default=0.0)
                print(f"time scale 1, {short.id}: verdict {verdict.outcome}")
                if observation.notified_s is not None:
                    print(
                        f"  measured notify {observation.notified_s:.1f}s - predicted {predicted:.1f}s = "
                        f"{observation.notified_s - predicted:+.1f}s against a budget of {budget:.1f}s"
                    )
                else:
                    print(f"  no notification; predicted {predicted:.1f}s, budget {budget:.1f}s")
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
