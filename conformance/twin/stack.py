"""One twin stack: the cluster server, the capture webhook, the Alertmanagers of each routing set-up, Prometheus.

High availability is run as the Prometheus Operator runs it: ``prometheus_replicas`` Prometheus processes with
the same scrape targets and rules, each with the external labels ``prometheus`` and ``prometheus_replica`` (the
latter dropped from the alerts it sends by an ``alert_relabel_configs`` labeldrop), each sending to every
Alertmanager; the replicas of one Alertmanager set-up meshed as one cluster on loopback (real gossip, peer
timeout and gossip timers scaled with the rest, the peer timeout never under 2 s: see
:func:`conformance.routing.defaults.peer_timeout_wall_s`). Every Alertmanager replica posts with ``?sender=<name>``, so
the capture webhook knows which replica sent what.

Everything listens on 127.0.0.1 on ports picked free, in a temp dir of its own; each server is health-checked
(``/-/ready``) before use. With ``backfill_s`` set (and a cluster that can say what Prometheus would store),
Prometheus starts warm: that much healthy virtual time is backfilled into its storage first
(:mod:`conformance.twin.backfill`) and the cluster's live clock continues from there.
:meth:`TwinStack.close` stops everything in reverse order and removes the temp dir, whatever state the start
reached; an ``atexit`` sweep (:mod:`conformance.twin.processes`) backs it up.
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from conformance.errors import BackendError
from conformance.model.durations import format_duration
from conformance.packs.model import Pack
from conformance.routing.capture import CapturedReceiver, Rewrite, rewrite_config
from conformance.routing.defaults import peer_timeout_wall_s
from conformance.static.series import selectors_in, wanted_names
from conformance.timescale import scale_seconds
from conformance.tools import find_tool
from conformance.twin.backfill import SampledCluster, create_blocks, openmetrics, sample_warmup
from conformance.twin.capture import CaptureServer
from conformance.twin.exporter import ClusterLike, ClusterServer
from conformance.twin.processes import ManagedProcess, free_port, make_temp_dir, remove_temp_dir
from conformance.twin.promconfig import prometheus_config, scaled_rule_groups, write_yaml
from conformance.twin.selfscrape import SelfJobs, SelfTarget, scrape_configs

READY_TIMEOUT_S = 30.0

#: Prometheus defaults that are durations of the monitored world, scaled with it.
LOOKBACK_DELTA_S = 300.0
RESEND_DELAY_S = 60.0
FOR_GRACE_PERIOD_S = 600.0

#: Alertmanager cluster timers that are durations of the monitored world, scaled with it (its defaults).
GOSSIP_INTERVAL_S = 0.2
PUSHPULL_INTERVAL_S = 60.0
SETTLE_TIMEOUT_S = 60.0
#: The label the operator sets on every Prometheus replica and drops from the alerts it sends.
REPLICA_LABEL = "prometheus_replica"


@dataclass
class StackSettings:
    """The clocks of a stack, unscaled (seconds), and the scale applied to all of them."""

    scale: float
    scrape_s: float = 15.0
    evaluation_s: float = 15.0
    tools: Mapping[str, str] = field(default_factory=dict)  # tool name -> explicit path
    label: str = "twin"
    #: Virtual seconds of healthy cluster backfilled before Prometheus starts (0: none, a cold start).
    backfill_s: float = 0.0
    #: Metric names worth backfilling (those the rules can select); None: every series.
    backfill_names: Collection[str] | None = None
    #: High availability: Prometheus replicas, Alertmanager replicas per pack set-up name (absent: 1), and
    #: whether the replicas of a set-up form one cluster (the operator always meshes them; False only to
    #: prove that unmeshed Alertmanagers notify twice).
    prometheus_replicas: int = 1
    alertmanager_replicas: Mapping[str, int] = field(default_factory=dict)
    mesh_alertmanagers: bool = True
    #: The operator's ``prometheus`` external label (``<namespace>/<name>``) of the replicas.
    prometheus_name: str = "monitoring/twin"
    #: The job names Prometheus and Alertmanager are scraped as by the stack itself (see :mod:`.selfscrape`);
    #: None: they are not scraped.
    self_jobs: SelfJobs | None = None

    def scaled(self, seconds: float) -> float:
        return scale_seconds(seconds, self.scale)


@dataclass
class AlertmanagerInstance:
    setup: str
    process: ManagedProcess
    url: str
    receivers: list[CapturedReceiver]
    replica: int = 0
    name: str = ""  # the replica's name, as it signs its notifications (``alertmanager-<set-up>-<replica>``)


@dataclass
class PrometheusInstance:
    process: ManagedProcess
    url: str
    replica: int = 0
    name: str = "prometheus"  # its prometheus_replica label


def _sender_url(url: str, sender: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}sender={quote(sender, safe='')}"


def _signed(config: dict[str, Any], sender: str) -> dict[str, Any]:
    """``config`` with every webhook URL carrying ``?sender=<sender>`` (the capture webhook records it)."""
    out = copy.deepcopy(config)
    for receiver in out.get("receivers") or []:
        for hook in receiver.get("webhook_configs") or []:
            hook["url"] = _sender_url(str(hook["url"]), sender)
    return out


class TwinStack:
    """Start with :meth:`start` (or as a context manager); ``close`` always stops everything."""

    def __init__(self, cluster: ClusterLike, pack: Pack, settings: StackSettings) -> None:
        self.pack = pack
        self.settings = settings
        self.cluster_server = ClusterServer(cluster, settings.scale)
        self.capture = CaptureServer()
        self.alertmanagers: list[AlertmanagerInstance] = []
        self.prometheuses: list[PrometheusInstance] = []
        self.prometheus: ManagedProcess | None = None  # the first replica
        self.prometheus_url = ""
        self.lost: set[str] = set()  # names of processes killed on purpose (a replica lost)
        self.rewrites: list[Rewrite] = []
        self.workdir: Path | None = None
        self.backfilled_s = 0.0  # virtual seconds backfilled (0: a cold start)
        self.backfilled_series = 0
        self.backfill_wall_s = 0.0  # wall seconds the backfill took (sampling, writing, promtool)
        self._closed = False

    def __enter__(self) -> TwinStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def processes(self) -> list[ManagedProcess]:
        found = [am.process for am in self.alertmanagers]
        return found + [instance.process for instance in self.prometheuses]

    def kill(self, process: ManagedProcess) -> None:
        """Kill one replica at once (SIGKILL, as when its node stops responding); it stays lost."""
        self.lost.add(process.name)
        process.kill()

    def start(self) -> TwinStack:
        """Start everything; on any failure, stop what was started and raise :class:`BackendError`."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        settings = self.settings
        prometheus_bin = find_tool("prometheus", settings.tools.get("prometheus"))
        alertmanager_bin = find_tool("alertmanager", settings.tools.get("alertmanager")) if self.pack.setups else None
        cluster = self.cluster_server.cluster
        backfill = settings.backfill_s > 0 and isinstance(cluster, SampledCluster)
        promtool = find_tool("promtool", settings.tools.get("promtool")) if backfill else None
        self.workdir = workdir = make_temp_dir(settings.label)
        self.capture.start()

        for index, setup in enumerate(self.pack.setups):
            assert alertmanager_bin is not None
            config, receivers, rewrites = rewrite_config(
                setup.name, setup.config, self.capture.base_url, settings.scale, source=setup.source
            )
            self.rewrites.extend(rewrites)
            replicas = max(1, settings.alertmanager_replicas.get(setup.name, 1))
            ports = [free_port() for _ in range(replicas)]
            cluster_ports = [free_port() for _ in range(replicas)] if replicas > 1 else []
            for replica in range(replicas):
                name = f"alertmanager-{index}-{replica}"
                home = workdir / name
                home.mkdir()
                process = ManagedProcess(
                    f"alertmanager[{setup.name}]" + (f"-{replica}" if replicas > 1 else ""),
                    [
                        str(alertmanager_bin),
                        f"--config.file={write_yaml(home / 'alertmanager.yml', _signed(config, name))}",
                        f"--storage.path={home / 'data'}",
                        f"--web.listen-address=127.0.0.1:{ports[replica]}",
                        *self._cluster_flags(cluster_ports, replica),
                        "--log.level=debug",
                    ],
                    home / "alertmanager.log",
                    home,
                ).start()
                url = f"http://127.0.0.1:{ports[replica]}"
                self.alertmanagers.append(AlertmanagerInstance(setup.name, process, url, receivers, replica, name))

        replicas = max(1, settings.prometheus_replicas)
        homes = [workdir / (f"prometheus-{replica}" if replicas > 1 else "prometheus") for replica in range(replicas)]
        for home in homes:
            home.mkdir()
        home = homes[0]
        # The warm-up is sampled while the Alertmanagers start; the live clock starts where it ends, and the
        # backfill's timestamps are those the live clock gives its virtual seconds, all before the first scrape.
        if backfill:
            assert isinstance(cluster, SampledCluster) and promtool is not None
            mark = time.monotonic()
            snapshots = sample_warmup(cluster, settings.backfill_s, settings.scrape_s, settings.backfill_names)
            self.cluster_server.start(at_virtual_s=settings.backfill_s)
            create_blocks(
                openmetrics(snapshots, self.cluster_server.unix_time_of), home / "data", promtool, work_dir=home
            )
            for other in homes[1:]:  # every replica starts with the same stored warm-up
                shutil.copytree(home / "data", other / "data")
            self.backfilled_s = settings.backfill_s
            self.backfilled_series = len({key for snapshot in snapshots for key in snapshot.samples})
            self.backfill_wall_s = time.monotonic() - mark
        else:
            self.cluster_server.start()
        for am in self.alertmanagers:
            am.process.wait_ready(f"{am.url}/-/ready", READY_TIMEOUT_S)

        rules = write_yaml(home / "rules.yml", scaled_rule_groups(self.pack, settings.scale))
        ports = [free_port() for _ in homes]
        names = [self._prometheus_name(replica, len(homes)) for replica in range(len(homes))]
        self_scrape = []
        if settings.self_jobs is not None:
            self_scrape = scrape_configs(
                self._self_targets(settings.self_jobs, ports, names),
                settings.prometheus_name.split("/", 1)[0],
                scrape_s=settings.scaled(settings.scrape_s),
                keep=wanted_names(selectors_in(rule.expr for group in self.pack.groups for rule in group.rules)),
            )
        for replica, replica_home in enumerate(homes):
            config = prometheus_config(
                self.cluster_server.cluster.targets(),
                self.cluster_server.address,
                [rules],
                [am.url.removeprefix("http://") for am in self.alertmanagers],
                scrape_s=settings.scaled(settings.scrape_s),
                evaluation_s=settings.scaled(settings.evaluation_s),
            )
            config["scrape_configs"] += self_scrape
            name = names[replica]
            if replicas > 1:
                # As the Prometheus Operator configures every replica of a Prometheus resource.
                config["global"]["external_labels"] = {"prometheus": settings.prometheus_name, REPLICA_LABEL: name}
                if config.get("alerting"):
                    config["alerting"]["alert_relabel_configs"] = [{"action": "labeldrop", "regex": REPLICA_LABEL}]
            port = ports[replica]
            process = ManagedProcess(
                "prometheus" + (f"-{replica}" if replicas > 1 else ""),
                [
                    str(prometheus_bin),
                    f"--config.file={write_yaml(replica_home / 'prometheus.yml', config)}",
                    f"--storage.tsdb.path={replica_home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=1d",
                    f"--query.lookback-delta={format_duration(settings.scaled(LOOKBACK_DELTA_S))}",
                    f"--rules.alert.resend-delay={format_duration(settings.scaled(RESEND_DELAY_S))}",
                    f"--rules.alert.for-grace-period={format_duration(settings.scaled(FOR_GRACE_PERIOD_S))}",
                ],
                replica_home / "prometheus.log",
                replica_home,
            ).start()
            self.prometheuses.append(PrometheusInstance(process, f"http://127.0.0.1:{port}", replica, name))
        self.prometheus = self.prometheuses[0].process
        self.prometheus_url = self.prometheuses[0].url
        for instance in self.prometheuses:
            instance.process.wait_ready(f"{instance.url}/-/ready", READY_TIMEOUT_S)

    def _prometheus_name(self, replica: int, replicas: int) -> str:
        """The replica's ``prometheus_replica`` label: the operator's pod name (``prometheus`` when alone)."""
        if replicas == 1:
            return "prometheus"
        return f"prometheus-{self.settings.prometheus_name.rsplit('/', 1)[-1]}-{replica}"

    def _self_targets(
        self, jobs: SelfJobs, prometheus_ports: list[int], prometheus_names: list[str]
    ) -> list[SelfTarget]:
        """Every Prometheus replica and every Alertmanager, as the stack's own ServiceMonitors find them."""
        found = [
            SelfTarget(f"127.0.0.1:{port}", jobs.prometheus, name, "prometheus")
            for port, name in zip(prometheus_ports, prometheus_names, strict=True)
        ]
        setups = list(dict.fromkeys(am.setup for am in self.alertmanagers))
        for am in self.alertmanagers:
            job = jobs.alertmanager_of(setups.index(am.setup))
            found.append(SelfTarget(am.url.removeprefix("http://"), job, f"{job}-{am.replica}", "alertmanager"))
        return found

    def _cluster_flags(self, cluster_ports: list[int], replica: int) -> list[str]:
        """Alertmanager's cluster flags: none for a single instance; else gossip on loopback with its peers."""
        settings = self.settings
        if not cluster_ports or not settings.mesh_alertmanagers:
            return ["--cluster.listen-address="]  # no gossip port: an instance on its own
        address = f"127.0.0.1:{cluster_ports[replica]}"
        peers = [f"--cluster.peer=127.0.0.1:{port}" for i, port in enumerate(cluster_ports) if i != replica]
        return [
            f"--cluster.listen-address={address}",
            f"--cluster.advertise-address={address}",
            *peers,
            f"--cluster.peer-timeout={format_duration(peer_timeout_wall_s(settings.scale))}",
            f"--cluster.gossip-interval={format_duration(settings.scaled(GOSSIP_INTERVAL_S))}",
            f"--cluster.pushpull-interval={format_duration(settings.scaled(PUSHPULL_INTERVAL_S))}",
            f"--cluster.settle-timeout={format_duration(settings.scaled(SETTLE_TIMEOUT_S))}",
        ]

    def receivers(self) -> list[CapturedReceiver]:
        return [receiver for am in self.alertmanagers for receiver in am.receivers]

    def logs(self, max_chars: int = 4000) -> dict[str, str]:
        """The tail of each process's log, by process name."""
        return {process.name: process.log_tail(max_chars) for process in self.processes}

    def close(self) -> None:
        """Stop Prometheus, the Alertmanagers, the servers; remove the temp dir. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        errors: list[str] = []
        for process in reversed(self.processes):
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                errors.append(f"{process.name}: {error}")
        for server in (self.cluster_server, self.capture):
            with contextlib.suppress(Exception):
                server.stop()
        if self.workdir is not None:
            remove_temp_dir(self.workdir)
        if errors:
            raise BackendError("could not stop every twin process: " + "; ".join(errors))
