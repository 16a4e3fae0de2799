"""The twin's Prometheus configuration and the pack's rule files, scaled by the time scale.

One scrape job per (target job, ``honor_labels``, metric drop): targets with their own static labels
(``instance`` included) and their own path on the cluster server (``__metrics_path__``). The ``job`` label is set
per target, so two scrape configs (kubelet's ``/metrics`` and ``/metrics/cadvisor``) can both say
``job="kubelet"``. A target's ``metric_drop`` (the ServiceMonitor's ``metricRelabelings`` that drop by name)
becomes a ``metric_relabel_configs`` drop: the live Prometheus stores what the simulated cluster's
``stored_samples`` (depth 3, the backfilled warm-up) say it stores.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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


def prometheus_config(
    targets: Sequence[ScrapeTargetLike],
    cluster_address: str,
    rule_files: Sequence[Path],
    alertmanagers: Sequence[str],
    *,
    scrape_s: float,
    evaluation_s: float,
    scraper: str = "prometheus",
) -> dict[str, Any]:
    """The config as a dict; intervals are already scaled, in seconds. Every scrape names ``scraper`` (the
    replica) in its query: the cluster server keeps each replica's scrape grid apart."""
    groups: dict[tuple[str, bool, str], list[ScrapeTargetLike]] = {}
    for target in targets:
        key = (target.job, bool(target.honor_labels), target.metric_drop)
        groups.setdefault(key, []).append(target)
    taken: set[str] = set()
    scrape_configs = []
    for (job, honor, drop), members in sorted(groups.items()):
        drops = [{"source_labels": ["__name__"], "regex": drop, "action": "drop"}] if drop else []
        scrape_configs.append(
            {
                "job_name": _job_name(job, honor, taken),
                "honor_labels": honor,
                "scrape_interval": format_duration(scrape_s),
                "scrape_timeout": format_duration(scrape_s),
                "params": {SCRAPER_PARAM: [scraper]},
                "static_configs": [
                    {
                        "targets": [cluster_address],
                        "labels": {
                            "job": job,
                            **{k: v for k, v in target.labels.items() if k != "job"},
                            "__metrics_path__": target_path(target.id),
                        },
                    }
                    for target in members
                ],
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
