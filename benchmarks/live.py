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
* peak memory of the twin (this Python process) plus Prometheus plus the Alertmanagers.

Usage: ``python benchmarks/live.py [--profile runai] [--skip-real-time]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from conformance.model.run import ScenarioRun
from conformance.observe.backend import RunResult
from conformance.options import DEFAULT_TIME_SCALE, Options
from conformance.session import ConformanceSession
from conformance.twin.backend import TwinBackend


def _mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def _run(
    session: ConformanceSession, runs: list[ScenarioRun], scale: float, *, high_availability: bool = True
) -> tuple[TwinBackend, list[RunResult]]:
    backend = TwinBackend(
        session.profile,
        session.pack,
        time_scale=scale,
        tools=dict(session.options.tools),
        high_availability=high_availability,
    )
    try:
        outcome = backend.run(runs, status=lambda line: print("\r\x1b[K" + line, end="", file=sys.stderr))
    finally:
        print("\r\x1b[K", end="", file=sys.stderr)
        backend.close()
    return backend, outcome.results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="runai")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE)
    parser.add_argument("--skip-real-time", action="store_true", help="skip the --time-scale 1 measurement")
    args = parser.parse_args(argv)

    session = ConformanceSession.open(Options(profile=args.profile, time_scale=args.time_scale))
    try:
        started = time.monotonic()
        runs = session.live_runs()
        print(f"depth 3 predictions for {len(runs)} scenario runs: {time.monotonic() - started:.1f}s")

        ha = session.ha_runs()
        plain, plain_results = _run(session, runs, args.time_scale, high_availability=False)
        plain_wall = plain.wall_s or 0.0
        plain_passed = sum(1 for result in plain_results if result.verdict().outcome == "pass")
        backend, results = _run(session, ha, args.time_scale)
        wall = backend.wall_s or 0.0
        losing = sum(1 for run in ha if run.losses)
        repeats = sum(1 for run in ha if run.repeat)
        print(f"without high availability: {plain_passed}/{len(plain_results)} runs pass, wall time {plain_wall:.1f}s")
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
        children = sum(backend.peak_rss.values())
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(f"  peak memory: twin {_mib(own)} + Prometheus/Alertmanager {_mib(children)} = {_mib(own + children)}")
        for name, size in sorted(backend.peak_rss.items()):
            print(f"    {name}: {_mib(size)}")

        if not args.skip_real_time:
            timed = [r for r in runs if r.prediction.fire_after_s is not None]
            if timed:
                short = min(timed, key=lambda r: r.prediction.fire_after_s or 0.0)
                backend, (result,) = _run(session, [short], 1.0)
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
