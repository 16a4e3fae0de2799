"""The twin's Prometheus and Alertmanager processes scraped as themselves, as the stack's own ServiceMonitors do.

They are real processes, so their own metrics are real: every Prometheus replica scrapes every Prometheus
replica and every Alertmanager on loopback, with the target labels a ServiceMonitor gives them (``job`` and
``service`` the Service's name, ``namespace`` the monitoring namespace, ``pod``, ``endpoint``, ``container``).

Their job names are the names of the Services in front of them, which whoever deployed the stack chose:
kube-prometheus-stack calls them ``<release>-prometheus`` and ``<release>-alertmanager``, kube-prometheus
``prometheus-k8s`` and ``alertmanager-main``, and a pack's rules select the ones they were written for. So the
names come from the pack: the ``job`` its rules select on Prometheus's own families (``prometheus_*``, not the
operator's) and on Alertmanager's (``alertmanager_*``), the chart's names when its rules name none.

Their counters grow on the wall clock while the rules' ranges and rates are scaled to the simulated clock
(:mod:`conformance.timescale`): a rate of theirs reads ``time_scale`` times lower than it is. The default rules
compare such rates with each other or with zero, which scaling leaves alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from conformance import versions
from conformance.model.durations import format_duration
from conformance.packs.model import Pack
from conformance.static.series import selectors_in

PROMETHEUS_PREFIX = "prometheus_"
OPERATOR_PREFIX = "prometheus_operator_"
ALERTMANAGER_PREFIX = "alertmanager_"


@dataclass(frozen=True)
class SelfJobs:
    """The job (and Service) names of the stack's Prometheus and of its first Alertmanager set-up."""

    prometheus: str
    alertmanager: str

    @classmethod
    def chart(cls, release: str = versions.CHART) -> SelfJobs:
        """kube-prometheus-stack's names for a Helm release."""
        return cls(f"{release}-prometheus", f"{release}-alertmanager")

    def alertmanager_of(self, setup_index: int) -> str:
        """The job of the ``setup_index``-th Alertmanager set-up: each is an Alertmanager resource with its own
        Service, so only the first carries the name the rules select."""
        return self.alertmanager if setup_index == 0 else f"{self.alertmanager}-{setup_index + 1}"


def reads_own_families(pack: Pack) -> bool:
    """Whether ``pack``'s rules read Prometheus's or Alertmanager's own families: only then are they scraped.

    Scraping them costs every replica of every lane a few thousand series per interval; with the Run:ai pack's
    high-availability lanes (two Prometheus, three Alertmanagers each) that was enough for its alerts to stay
    pending on a loaded machine, so a pack that reads none of it does without.
    """
    exprs = [rule.expr for group in pack.groups for rule in group.rules]
    return any(
        (s.name or "").startswith((PROMETHEUS_PREFIX, ALERTMANAGER_PREFIX))
        and not (s.name or "").startswith(OPERATOR_PREFIX)
        for s in selectors_in(exprs)
    )


def jobs_selected_by(pack: Pack, release: str = versions.CHART) -> SelfJobs:
    """The self-scrape job names ``pack``'s rules select (the chart's where they select none)."""
    found: dict[str, Counter[str]] = {"prometheus": Counter(), "alertmanager": Counter()}
    exprs = [rule.expr for group in pack.groups for rule in group.rules]
    for selector in selectors_in(exprs):
        name = selector.name or ""
        if name.startswith(PROMETHEUS_PREFIX) and not name.startswith(OPERATOR_PREFIX):
            component = "prometheus"
        elif name.startswith(ALERTMANAGER_PREFIX):
            component = "alertmanager"
        else:
            continue
        for label, op, value in selector.matchers:
            if label == "job" and op == "=" and value:
                found[component][value] += 1
    chart = SelfJobs.chart(release)
    return SelfJobs(
        _most_common(found["prometheus"], chart.prometheus),
        _most_common(found["alertmanager"], chart.alertmanager),
    )


def _most_common(counts: Counter[str], default: str) -> str:
    return counts.most_common(1)[0][0] if counts else default


@dataclass(frozen=True)
class SelfTarget:
    """One real process to scrape: its loopback address and the labels its ServiceMonitor gives it."""

    address: str
    job: str
    pod: str
    container: str


def scrape_configs(
    targets: Sequence[SelfTarget], namespace: str, *, scrape_s: float, keep: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """One scrape config per job, each target with its ServiceMonitor labels (``instance`` stays the address
    Prometheus really scrapes).

    ``keep``: the only metric names stored (None: every one). A Prometheus serves about a thousand series of its
    own and every replica of a lane scrapes every replica and Alertmanager: storing only what the pack's rules
    read keeps that ingestion off a loaded machine (``up`` and the other per-scrape series are always written).
    """
    relabel = (
        [{"source_labels": ["__name__"], "regex": "|".join(sorted(keep)), "action": "keep"}] if keep is not None else []
    )
    by_job: dict[str, list[SelfTarget]] = {}
    for target in targets:
        by_job.setdefault(target.job, []).append(target)
    return [
        {
            "job_name": f"self-{job}",
            "scrape_interval": format_duration(scrape_s),
            "scrape_timeout": format_duration(scrape_s),
            "static_configs": [
                {
                    "targets": [target.address],
                    "labels": {
                        "job": job,
                        "namespace": namespace,
                        "service": job,
                        "endpoint": "http-web",
                        "pod": target.pod,
                        "container": target.container,
                    },
                }
                for target in members
            ],
            "metric_relabel_configs": relabel,
        }
        for job, members in by_job.items()
    ]
