"""The twin's Prometheus configuration and the pack's rule files, scaled by the time scale.

One scrape job per (target job, ``honor_labels``, metric drop): targets with their own static labels
(``instance`` included) and their own path on the cluster server (``__metrics_path__``). The ``job`` label is set
per target, so two scrape configs (kubelet's ``/metrics`` and ``/metrics/cadvisor``) can both say
``job="kubelet"``. A target's ``metric_drop`` (the ServiceMonitor's ``metricRelabelings`` that drop by name)
becomes a ``metric_relabel_configs`` drop: the live Prometheus stores what the simulated cluster's
``stored_samples`` (depth 3, the backfilled warm-up) say it stores.

A group whose targets can leave discovery during the run (a stopped scheduler's mirror pod goes, and with it its
endpoint) is discovered from a file instead (``file_sd_configs``, one file per group, :func:`discovery_entries`):
Prometheus watches the file (inotify; ``refresh_interval`` as a fallback), and a target gone from it is dropped
as Kubernetes discovery drops one, its series marked stale at what would have been its next scrape. Changing a
static config would not do: a scrape config removed on reload stops its pool without staleness markers, so its
series would linger for the lookback delta. Either way Prometheus applies a changed target set on its discovery
manager's 5 s send tick and its scrape manager's 5 s reload tick (see
:data:`conformance.observe.expectations.DISCOVERY_WALL_S`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from conformance.model.durations import format_duration
from conformance.packs.model import Pack, Rule
from conformance.timescale import scale_expr, scale_seconds
from conformance.twin.exporter import SCRAPER_PARAM, ScrapeTargetLike, target_path


def _job_name(job: str, honor: bool, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", job) + ("-honor" if honor else "")
    name, index = base, 2
    while name in taken:
        name, index = f"{base}-{index}", index + 1
    taken.add(name)
    return name


#: One scrape config per (job, honor_labels, metric drop).
GroupKey = tuple[str, bool, str]

#: How often Prometheus re-reads a discovery file besides watching it (wall seconds, a fallback to inotify).
DISCOVERY_REFRESH = "5s"


def group_key(target: ScrapeTargetLike) -> GroupKey:
    return (target.job, bool(target.honor_labels), target.metric_drop)


def _groups(targets: Sequence[ScrapeTargetLike]) -> dict[GroupKey, list[ScrapeTargetLike]]:
    groups: dict[GroupKey, list[ScrapeTargetLike]] = {}
    for target in targets:
        groups.setdefault(group_key(target), []).append(target)
    return dict(sorted(groups.items()))


def _entry(target: ScrapeTargetLike, cluster_address: str) -> dict[str, Any]:
    """One target as Prometheus reads it from a static config or a discovery file."""
    return {
        "targets": [cluster_address],
        "labels": {
            "job": target.job,
            **{k: v for k, v in target.labels.items() if k != "job"},
            "__metrics_path__": target_path(target.id),
        },
    }


def discovery_entries(
    targets: Sequence[ScrapeTargetLike], cluster_address: str, keys: Collection[GroupKey]
) -> dict[GroupKey, list[dict[str, Any]]]:
    """What each discovery file of ``keys`` holds for ``targets`` now (an empty list: every target has left)."""
    groups = _groups(targets)
    return {key: [_entry(target, cluster_address) for target in groups.get(key, [])] for key in keys}


def prometheus_config(
    targets: Sequence[ScrapeTargetLike],
    cluster_address: str,
    rule_files: Sequence[Path],
    alertmanagers: Sequence[str],
    *,
    scrape_s: float,
    evaluation_s: float,
    scraper: str = "prometheus",
    discovery_files: Mapping[GroupKey, Path] | None = None,
) -> dict[str, Any]:
    """The config as a dict; intervals are already scaled, in seconds. Every scrape names ``scraper`` (the
    replica) in its query: the cluster server keeps each replica's scrape grid apart. The groups of
    ``discovery_files`` read their targets from those files (:func:`discovery_entries` writes what they hold)."""
    files = discovery_files or {}
    taken: set[str] = set()
    scrape_configs = []
    for key, members in _groups(targets).items():
        job, honor, drop = key
        drops = [{"source_labels": ["__name__"], "regex": drop, "action": "drop"}] if drop else []
        found: dict[str, Any] = (
            {"file_sd_configs": [{"files": [str(files[key])], "refresh_interval": DISCOVERY_REFRESH}]}
            if key in files
            else {"static_configs": [_entry(target, cluster_address) for target in members]}
        )
        scrape_configs.append(
            {
                "job_name": _job_name(job, honor, taken),
                "honor_labels": honor,
                "scrape_interval": format_duration(scrape_s),
                "scrape_timeout": format_duration(scrape_s),
                "params": {SCRAPER_PARAM: [scraper]},
                **found,
                **({"metric_relabel_configs": drops} if drops else {}),
            }
        )
    return {
        "global": {
            "scrape_interval": format_duration(scrape_s),
            "scrape_timeout": format_duration(scrape_s),
            "evaluation_interval": format_duration(evaluation_s),
        },
        "rule_files": [str(path) for path in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": list(alertmanagers)}]}]}
        if alertmanagers
        else {},
        "scrape_configs": scrape_configs,
    }


def _rule_dict(rule: Rule, scale: float) -> dict[str, Any]:
    expr = scale_expr(rule.expr, scale, source=rule.source, place=f"line {rule.line}" if rule.line else None)
    out: dict[str, Any] = {"alert": rule.alert} if rule.alert else {"record": rule.record}
    out["expr"] = expr
    if rule.alert:
        if rule.for_s:
            out["for"] = format_duration(scale_seconds(rule.for_s, scale))
        if rule.keep_firing_for_s:
            out["keep_firing_for"] = format_duration(scale_seconds(rule.keep_firing_for_s, scale))
        if rule.annotations:
            out["annotations"] = dict(rule.annotations)
    if rule.labels:
        out["labels"] = dict(rule.labels)
    return out


def scaled_rule_groups(pack: Pack, scale: float) -> dict[str, Any]:
    """The pack's rule groups as one rule file (``{"groups": [...]}``), every duration scaled."""
    groups = []
    seen: dict[str, int] = {}
    for group in pack.groups:
        # Group names must be unique within a file; packs built from several files may repeat one.
        count = seen[group.name] = seen.get(group.name, 0) + 1
        name = group.name if count == 1 else f"{group.name} ({count})"
        item: dict[str, Any] = {"name": name, "rules": [_rule_dict(rule, scale) for rule in group.rules]}
        if group.interval_s:
            item["interval"] = format_duration(scale_seconds(group.interval_s, scale))
        groups.append(item)
    return {"groups": groups}


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path
