"""Mutation test of the static depths: every mutant of issue 9's classes is killed, every allowed rewrite passes.

For each seed profile the reference pack is mutated one change at a time (:mod:`benchmarks.mutant_catalogue`
says how, and which verdict the profile demands). A mutant is *killed* when depth 1, 3 or 4 reports a problem
on an alert it changed; an allowed rewrite must leave those alerts without problems. Depth 2 is left out:
every mutant is valid PromQL by construction, and a kill that came from a load error would prove nothing.
Depth 4 runs in-process (the amtool cross-check is the static suite's business).

Rule mutants of different alerts share one depth-3 run (an alert's verdict depends only on its own rules and
on what it reads, and an alert that reads ``ALERTS`` is mutated alone); set-up mutants reuse the reference
pack's depth 3, since routing changes no rule.

    .venv/bin/python -m benchmarks.mutants [--profiles runai aistore mlops seldon] [--verbose]

Prints the counts per profile and class, then every survivor and every rewrite wrongly killed; exits 1 if any.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.mutant_catalogue import KILL_CLASSES, PASS_CLASSES, Context, Mutant, mutants
from conformance.model.profile import Profile
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.profiles import load_profile
from conformance.sim import SimulatedCluster
from conformance.static.behaviour import AlertBehaviour, prove_behaviour, warmup_s
from conformance.static.contract import check_contract
from conformance.static.routing_check import check_routing
from conformance.tools import find_tool

SEED_PROFILES = ("runai", "aistore", "mlops", "seldon")


@dataclass(frozen=True)
class Outcome:
    mutant: Mutant
    problems: tuple[str, ...]

    @property
    def killed(self) -> bool:
        return bool(self.problems)

    @property
    def as_demanded(self) -> bool:
        return self.killed == (self.mutant.verdict == "kill")

    @property
    def depths(self) -> set[str]:
        """The depths that reported a problem (``"1"``, ``"3"``, ``"4"``)."""
        return {problem.split(" ", 2)[1] for problem in self.problems}


def _problems(
    profile: Profile, pack: Pack, keys: Sequence[str], behaviour: dict[str, AlertBehaviour]
) -> tuple[str, ...]:
    """Depth 1, 3 and 4 problems of the alerts ``keys`` in ``pack``, one line each."""
    alerts = [profile.alert(key) for key in keys]
    found: list[str] = []
    for alert in alerts:
        found += [f"depth 1 {alert.key}: {p}" for p in check_contract(alert, pack).problems]
        if alert.key in behaviour:
            found += [f"depth 3 {alert.key}: {p}" for p in behaviour[alert.key].reasons()]
    routing = check_routing(alerts, profile.routing, pack, behaviour, {}, amtool=None)
    found += [f"depth 4 {key[0]} ({key[1]}): {p}" for key, result in routing.items() for p in result.problems]
    return tuple(found)


def _rounds(profile: Profile, pack: Pack, rule_mutants: Sequence[Mutant]) -> list[list[Mutant]]:
    """Mutants packed into rounds with at most one mutant per alert and per rule; aggregates alone."""
    rounds: list[list[Mutant]] = []
    for mutant in rule_mutants:
        (key,) = mutant.alerts
        reads_alerts = any("ALERTS" in rule.expr for rule in mutant.rules.values())
        placed = False
        for round_ in rounds if not reads_alerts else []:
            taken = {k for m in round_ for k in m.alerts}
            rules = {r for m in round_ for r in m.rules}
            alone = any("ALERTS" in rule.expr for m in round_ for rule in m.rules.values())
            if key not in taken and not rules & set(mutant.rules) and not alone:
                round_.append(mutant)
                placed = True
                break
        if not placed:
            rounds.append([mutant])
    return rounds


def _behaviour(profile: Profile, pack: Pack, keys: Sequence[str], promtool: Path) -> dict[str, AlertBehaviour]:
    workdir = Path(tempfile.mkdtemp(prefix="mutants-"))
    try:
        subset = replace(profile, alerts=tuple(profile.alert(key) for key in keys))
        return prove_behaviour(subset, pack, promtool=promtool, workdir=workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _healthy(profile: Profile, pack: Pack) -> dict[tuple[tuple[str, str], ...], float]:
    cluster = SimulatedCluster(profile.environment)
    cluster.advance_to(warmup_s(pack, profile.scrape_interval_s))
    return cluster.stored_samples()


def run_profile(name: str, promtool: Path) -> list[Outcome]:
    profile = load_profile(name)
    pack = load_pack(profile.pack_path)
    every = [alert.key for alert in profile.alerts]
    reference = _behaviour(profile, pack, every, promtool)
    judged = [alert.key for alert in profile.alerts if not alert.expected_failure]
    baseline = _problems(profile, pack, judged, reference)
    if baseline:
        raise SystemExit(f"{name}: the reference pack itself fails: {baseline[0]}")
    labels = {
        key: [dict(labels) for p in behaviour.predictions for labels in p.labels]
        for key, behaviour in reference.items()
    }
    context = Context(profile, pack, _healthy(profile, pack), labels)
    catalogue = mutants(context)
    outcomes: list[Outcome] = []
    for mutant in (m for m in catalogue if m.setup is not None):
        keys = [key for key in mutant.alerts if key in judged]
        outcomes.append(Outcome(mutant, _problems(profile, mutant.apply(pack), keys, reference)))
    for round_ in _rounds(profile, pack, [m for m in catalogue if m.rules]):
        merged = pack
        for mutant in round_:
            merged = mutant.apply(merged)
        keys = [key for mutant in round_ for key in mutant.alerts]
        behaviour = _behaviour(profile, merged, keys, promtool)
        for mutant in round_:
            outcomes.append(Outcome(mutant, _problems(profile, merged, mutant.alerts, behaviour)))
    return outcomes


def _table(outcomes: Sequence[Outcome], profiles: Sequence[str]) -> list[str]:
    classes = [*KILL_CLASSES, *PASS_CLASSES]
    totals: Counter[tuple[str, str]] = Counter()
    good: Counter[tuple[str, str]] = Counter()
    for outcome in outcomes:
        key = (outcome.mutant.profile, outcome.mutant.cls)
        totals[key] += 1
        good[key] += outcome.as_demanded
    width = max(len(c) for c in classes)
    lines = [f"{'class':<{width}}  demand  " + "  ".join(f"{p:>9}" for p in profiles) + "      total"]
    for cls in classes:
        demand = "killed" if cls in KILL_CLASSES else "passed"
        cells = [f"{good[(p, cls)]:>4}/{totals[(p, cls)]:<4}" for p in profiles]
        all_good = sum(good[(p, cls)] for p in profiles)
        all_total = sum(totals[(p, cls)] for p in profiles)
        lines.append(f"{cls:<{width}}  {demand}  " + "  ".join(cells) + f"  {all_good:>4}/{all_total:<4}")
    return lines


def _by_depth(outcomes: Sequence[Outcome]) -> list[str]:
    """How many kills of each class each depth made on its own (a mutant may be killed by several)."""
    lines = ["kills by depth (a mutant can fall at several):"]
    for cls in KILL_CLASSES:
        kills = [o for o in outcomes if o.mutant.cls == cls and o.killed]
        counts = ", ".join(f"depth {d}: {sum(d in o.depths for o in kills)}" for d in ("1", "3", "4"))
        lines.append(f"  {cls:<12} {counts}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--profiles", nargs="+", default=list(SEED_PROFILES))
    parser.add_argument("--verbose", action="store_true", help="print every mutant and its first problem")
    args = parser.parse_args(argv)
    promtool = find_tool("promtool", None)
    outcomes: list[Outcome] = []
    for name in args.profiles:
        started = time.monotonic()
        found = run_profile(name, promtool)
        outcomes += found
        print(f"{name}: {len(found)} mutants in {time.monotonic() - started:.1f}s", file=sys.stderr)
    for line in [*_table(outcomes, args.profiles), *_by_depth(outcomes)]:
        print(line)
    kills = [o for o in outcomes if o.mutant.verdict == "kill"]
    passes = [o for o in outcomes if o.mutant.verdict == "pass"]
    print(
        f"killed {sum(o.killed for o in kills)} of {len(kills)} mutants; "
        f"{sum(not o.killed for o in passes)} of {len(passes)} allowed rewrites passed"
    )
    wrong = [o for o in outcomes if not o.as_demanded]
    for outcome in outcomes if args.verbose else wrong:
        verdict = "KILLED" if outcome.killed else "passed"
        flag = "" if outcome.as_demanded else "  <-- not as demanded"
        print(f"{verdict} [{outcome.mutant.profile}/{outcome.mutant.cls}] {outcome.mutant.what}{flag}")
        if outcome.problems:
            print(f"    {outcome.problems[0]}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
