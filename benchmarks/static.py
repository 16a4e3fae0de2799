"""Wall time of ``pytest --profile P -m static`` for each seed profile and for a generated 500-alert pack.

Targets on the 2-core reference machine: under 5 s per seed profile, under 30 s for 500 alerts.
Each run is a fresh pytest subprocess, as a user would start it; the figures include interpreter start-up.

    .venv/bin/python benchmarks/static.py [--alerts 500] [--profiles runai aistore mlops seldon]

With ``--profile FILE`` (and optionally ``--alert-pack DIR``) it measures one run of your own instead, e.g. a
pack exactly as its project ships it: wall time and the peak memory of every process of the run together
(pytest, its workers and promtool/amtool), sampled from /proc every 20 ms. Targets: 30 s and 1 GiB.

    .venv/bin/python benchmarks/static.py --profile ./kp/profile.yaml --alert-pack ./kp-pack

With ``--long-window`` it measures the same for tests/data/slo-30d, an alert reading a recorded ratio over 30 days
(depth 3 on the coarse grid, conformance.static.grid), against the default budget (10 minutes, 2 GiB), and prints
depth 3's own estimate beside it.

    .venv/bin/python benchmarks/static.py --long-window
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

KINDS = ("memory", "cpu", "replicas", "down", "node-memory", "volume")


def _environment(workloads: int) -> dict[str, Any]:
    return {
        "namespaces": ["bench"],
        "nodes": [{"name": f"node-{i}", "memory": "64Gi", "cpu_cores": 16} for i in range(3)],
        "workloads": [
            {
                "kind": "Deployment",
                "name": f"app-{i}",
                "namespace": "bench",
                "replicas": 2,
                "containers": [{"name": "app", "memory_limit": "1Gi", "cpu_limit": 1}],
                "scrape": {"job": f"app-{i}"},
                "volume_claims": [f"data-{i}"],
            }
            for i in range(workloads)
        ],
        "volume_claims": [
            {"name": f"data-{i}", "namespace": "bench", "capacity": "10Gi", "mounted_by": f"app-{i}"}
            for i in range(workloads)
        ],
    }


def _alert(index: int, workloads: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A documented alert and the rule that meets it, cycling through fault kinds and thresholds."""
    kind = KINDS[index % len(KINDS)]
    app = f"app-{index % workloads}"
    name = f"Bench{kind.title().replace('-', '')}{index}"
    ratio = round(0.5 + (index % 9) * 0.05, 2)
    source = {"seed": "generated", "section": name, "quote": "generated for the benchmark"}
    contract: dict[str, Any] = {
        "name": name,
        "severity": "warning",
        "meaning": f"generated {kind} alert",
        "source": source,
        "for": {"value": "2m", "documented": True},
    }
    workload_target = {"namespace": "bench", "workload": app}
    if kind == "memory":
        contract["threshold"] = {
            "quantity": "container_memory_limit_ratio",
            "op": ">",
            "value": ratio,
            "documented": True,
        }
        contract["scenarios"] = [{"fault": "memory-near-limit", "target": {**workload_target, "container": "app"}}]
        selector = f'namespace="bench", pod=~"{app}-.*", container="app"'
        expr = (
            f"max by (namespace, pod, container) (container_memory_working_set_bytes{{{selector}}})"
            " / max by (namespace, pod, container) "
            f'(kube_pod_container_resource_limits{{{selector}, resource="memory"}}) > {ratio}'
        )
    elif kind == "cpu":
        contract["threshold"] = {"quantity": "container_cpu_limit_ratio", "op": ">", "value": ratio, "documented": True}
        contract["window"] = {"value": "5m", "documented": True}
        contract["scenarios"] = [{"fault": "cpu-near-limit", "target": {**workload_target, "container": "app"}}]
        selector = f'namespace="bench", pod=~"{app}-.*", container="app"'
        expr = (
            f"sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{{{selector}}}[5m]))"
            " / sum by (namespace, pod, container) "
            f'(kube_pod_container_resource_limits{{{selector}, resource="cpu"}}) > {ratio}'
        )
    elif kind == "replicas":
        contract["threshold"] = {"quantity": "unavailable_replicas", "op": ">", "value": 0, "documented": True}
        contract["scenarios"] = [{"fault": "unavailable-replicas", "target": workload_target}]
        expr = f'kube_deployment_status_replicas_unavailable{{namespace="bench", deployment="{app}"}} > 0'
    elif kind == "down":
        contract["scenarios"] = [{"fault": "target-down", "target": workload_target}]
        expr = f'up{{job="{app}"}} == 0'
    elif kind == "node-memory":
        node = f"node-{index % 3}"
        contract["threshold"] = {"quantity": "node_memory_used_ratio", "op": ">", "value": ratio, "documented": True}
        contract["scenarios"] = [{"fault": "node-memory-pressure", "target": {"node": node}}]
        expr = f"1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes > {ratio}"
    else:
        claim = f"data-{index % workloads}"
        available = round(0.05 + (index % 5) * 0.05, 2)
        contract["threshold"] = {
            "quantity": "volume_available_ratio",
            "op": "<",
            "value": available,
            "documented": True,
        }
        contract["scenarios"] = [{"fault": "fill-volume", "target": {"namespace": "bench", "volume_claim": claim}}]
        expr = (
            f'kubelet_volume_stats_available_bytes{{persistentvolumeclaim="{claim}"}}'
            f' / kubelet_volume_stats_capacity_bytes{{persistentvolumeclaim="{claim}"}} < {available}'
        )
    rule = {
        "alert": name,
        "expr": expr,
        "for": "2m",
        "labels": {"severity": "warning"},
        "annotations": {"summary": f"generated {kind} alert"},
    }
    return contract, rule


def generate(folder: Path, alerts: int, workloads: int = 10) -> Path:
    """Write a profile with ``alerts`` documented alerts and its pack; returns the profile file."""
    contracts, rules = zip(*(_alert(i, workloads) for i in range(alerts)), strict=True)
    pack = folder / "pack"
    pack.mkdir(parents=True, exist_ok=True)
    (pack / "rules.yaml").write_text(yaml.safe_dump({"groups": [{"name": "bench", "rules": list(rules)}]}))
    (pack / "alertmanager.yaml").write_text(
        yaml.safe_dump({"route": {"receiver": "all", "group_by": ["alertname"]}, "receivers": [{"name": "all"}]})
    )
    profile = {
        "name": "bench",
        "title": f"generated {alerts}-alert profile",
        "seeds": ["generated"],
        "pack": "pack",
        "environment": _environment(workloads),
        "routing": [
            {
                "name": "all",
                "form": "file",
                "receiver": "all",
                "source": {"seed": "generated", "section": "routing", "quote": "everything to one receiver"},
            }
        ],
        "alerts": list(contracts),
    }
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


def run_static(profile: str, cwd: Path) -> tuple[float, str]:
    """Seconds for one ``pytest --profile P -m static`` run, and its summary line."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--profile", profile, "-m", "static", "-q", "-p", "no:randomly"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - start
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    return elapsed, lines[-1] if lines else result.stderr.strip()[-200:]


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every process descending from it, read from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21]) * page
    total = 0
    for pid, resident in rss.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            total += resident
    return total


def measure(argv: list[str], cwd: Path) -> tuple[float, int, str]:
    """Wall seconds, peak resident bytes of the whole process tree, and the last line of output of ``argv``."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate(timeout=1800)
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    lines = [line for line in output.splitlines() if line.strip()]
    return elapsed, peak, lines[-1] if lines else ""


LONG_WINDOW = Path(__file__).resolve().parents[1] / "tests" / "data" / "slo-30d" / "profile.yaml"


def own_run(profile: str, pack: str | None, target_s: float = 30, target_bytes: int = 2**30) -> int:
    """One static run of a given profile (and pack): wall time and peak memory against the targets."""
    argv = [sys.executable, "-m", "pytest", "--profile", str(Path(profile).resolve()), "-m", "static", "-q"]
    argv += ["-p", "no:randomly"] + ([f"--alert-pack={Path(pack).resolve()}"] if pack else [])
    with tempfile.TemporaryDirectory(prefix="alert-conformance-bench-") as tmp:
        elapsed, peak, summary = measure(argv, Path(tmp))
    targets = f"{target_s:g} s, {target_bytes / 2**30:g} GiB"
    print(f"{'wall s':>8} {'peak MiB':>9}  {'targets':<13} result")
    print(f"{elapsed:8.2f} {peak / 2**20:9.0f}  {targets:<13} {summary}")
    return 0 if elapsed <= target_s and peak <= target_bytes else 1


def long_window_run() -> int:
    """The 30-day case: depth 3's estimate, then one measured run against the default budget."""
    from conformance.options import DEFAULT_BUDGET_MEMORY_BYTES, DEFAULT_BUDGET_TIME_S
    from conformance.packs.loader import load_pack
    from conformance.profiles import load_profile
    from conformance.static.behaviour import plan_behaviour
    from conformance.static.cost import budget_line, estimate

    profile = load_profile(str(LONG_WINDOW))
    pack = load_pack(profile.pack_path)
    plan = plan_behaviour(profile, pack)
    print(f"{LONG_WINDOW.parent.name}: {budget_line(estimate(plan, profile, pack))}")
    for key, grid in plan.grids.items():
        print(f"  {key}: {grid.describe()}")
    return own_run(str(LONG_WINDOW), None, DEFAULT_BUDGET_TIME_S, DEFAULT_BUDGET_MEMORY_BYTES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--profiles", nargs="*", default=["runai", "aistore", "mlops", "seldon"])
    parser.add_argument("--profile", help="measure one run of this profile file instead")
    parser.add_argument("--alert-pack", help="with --profile: the pack to prove (default: the profile's own)")
    parser.add_argument("--long-window", action="store_true", help="measure the 30-day case (tests/data/slo-30d)")
    args = parser.parse_args()
    if args.long_window:
        return long_window_run()
    if args.profile:
        return own_run(args.profile, args.alert_pack)
    with tempfile.TemporaryDirectory(prefix="alert-conformance-bench-") as tmp:
        workdir = Path(tmp)
        print(f"{'profile':<12} {'alerts':>6} {'wall s':>8}  target  result")
        for name in args.profiles:
            elapsed, summary = run_static(name, workdir)
            print(f"{name:<12} {'-':>6} {elapsed:8.2f}  < 5 s   {summary}")
        profile = generate(workdir / "generated", args.alerts)
        elapsed, summary = run_static(str(profile), workdir)
        print(f"{'generated':<12} {args.alerts:>6} {elapsed:8.2f}  < 30 s  {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
