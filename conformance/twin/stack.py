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
import functools
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from conformance.errors import BackendError
from conformance.model.durations import format_duration
from conformance.packs.model import Pack
from conformance.routing.capture import CapturedReceiver, Rewrite, rewrite_config
from conformance.routing.defaults import peer_timeout_wall_s
from conformance.static.series import selectors_in, wanted_names
from conformance.timescale import scale_seconds
from conformance.tools import find_tool
from conformance.twin.backfill import SampledCluster, create_blocks, sample_warmup, write_openmetrics
from conformance.twin.capture import CaptureServer
from conformance.twin.exporter import ClusterLike, ClusterServer, ScrapeTargetLike
from conformance.twin.processes import (
    PORT_ATTEMPTS,
    ManagedProcess,
    free_port,
    make_temp_dir,
    release_port,
    remove_temp_dir,
    stop_processes,
)
from conformance.twin.promconfig import (
    GroupKey,
    discovery_entries,
    group_key,
    prometheus_config,
    scaled_rule_groups,
    write_yaml,
)
from conformance.twin.reach import Reach
from conformance.twin.scraped import scraped
from conformance.twin.selfscrape import SelfJobs, SelfTarget, scrape_configs

READY_TIMEOUT_S = 30.0
#: The longest a lane waits for the others to sample their warm-ups.
SAMPLED_TOGETHER_TIMEOUT_S = 300.0

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
    #: How far back the rules read each metric: what of the warm-up is backfilled; None: every series, whole.
    backfill_reach: Reach | None = None
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
    #: The metric names that choose the targets Prometheus scrapes (see :mod:`.scraped`); None: every target.
    scraped_names: frozenset[str] | None = None
    #: The scrape jobs whose targets can leave discovery during the run: read from files the stack rewrites
    #: (:meth:`TwinStack.rediscover`) instead of static configs (see :mod:`.promconfig`).
    discovered_jobs: frozenset[str] = frozenset()

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


class _Listening(Protocol):
    name: str
    url: str

    @property
    def process(self) -> ManagedProcess: ...


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

    def __init__(
        self,
        cluster: ClusterLike,
        pack: Pack,
        settings: StackSettings,
        *,
        promtool_slots: threading.Semaphore | None = None,
        sampled_together: threading.Barrier | None = None,
    ) -> None:
        self.pack = pack
        #: Passed by every lane once its warm-up is sampled (see :meth:`_start`); None: a stack on its own.
        self.sampled_together = sampled_together
        #: Held while promtool backfills: how many may run side by side (the budget says, see twin.cost).
        self.promtool_slots = promtool_slots or threading.Semaphore(1)
        self.settings = settings
        self.cluster_server = ClusterServer(
            cluster, settings.scale, scrape_interval_s=settings.scaled(settings.scrape_s)
        )
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
        self.backfilled_samples = 0
        self.backfilled_runs = 0  # the runs and gaps the sampled warm-up held (what it cost in memory)
        self.backfill_wall_s = 0.0  # wall seconds the backfill took (sampling, writing, promtool)
        self._closed = False
        self._ports: list[int] = []  # every port picked for a child, released on close
        self._relaunch: dict[str, Callable[..., Any]] = {}  # by replica name: start it again (fresh_ports=True)
        #: By Prometheus home: its configuration without the self-scrape, and the replica ports that was written with.
        self._self_scraped: dict[Path, tuple[dict[str, Any], tuple[int, ...]]] = {}
        #: The discovery file of each scrape group of a job in ``settings.discovered_jobs`` (every replica reads it).
        self._discovery_files: dict[GroupKey, Path] = {}

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
            if self.sampled_together is not None:
                self.sampled_together.abort()  # the other lanes must not wait for this one
            self.close()
            raise
        return self

    def _wait_for_other_lanes(self) -> None:
        if self.sampled_together is None:
            return
        # A lane that failed aborts the barrier, and a stuck one must not hold the others for ever: either way
        # they go on (their scrapes may then be late at first, as without the barrier).
        with contextlib.suppress(threading.BrokenBarrierError):
            self.sampled_together.wait(timeout=SAMPLED_TOGETHER_TIMEOUT_S)

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
            cluster_ports = [self._port() for _ in range(replicas)] if replicas > 1 else []
            for replica in range(replicas):
                launch = functools.partial(
                    self._launch_alertmanager,
                    alertmanager_bin,
                    index,
                    setup.name,
                    config,
                    receivers,
                    replica,
                    cluster_ports,
                )
                self.alertmanagers.append(launch())
                self._relaunch[self.alertmanagers[-1].name] = launch

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
            source = home / "warmup.om.txt"
            # Every lane samples side by side: one after the other, the lanes started first would be scraped
            # (expositions are Python work too) while the others still sample, and the start would take longer.
            warmup = sample_warmup(cluster, settings.backfill_s, settings.scrape_s, settings.backfill_reach)
            # Sampling is Python work under one interpreter lock: a lane whose Prometheus scraped already while
            # the others still sample would answer its scrapes seconds late (timeouts, gaps in every series) at
            # the very start of the run. So no lane's clock starts before every lane has sampled.
            self._wait_for_other_lanes()
            self.cluster_server.start(at_virtual_s=settings.backfill_s)
            self.backfilled_samples = write_openmetrics(warmup, self.cluster_server.unix_time_of, source)
            self.backfilled_series, self.backfilled_runs = len(warmup.tracks), warmup.segments()
            del warmup  # written: promtool reads the file
            with self.promtool_slots:
                create_blocks(source, home / "data", promtool)
            self.backfill_wall_s = time.monotonic() - mark
            for other in homes[1:]:  # every replica starts with the same stored warm-up
                shutil.copytree(home / "data", other / "data")
            self.backfilled_s = settings.backfill_s
        else:
            self._wait_for_other_lanes()  # nothing to sample (no warm-up): it only must not hold the others
            self.cluster_server.start()
        for position in range(len(self.alertmanagers)):
            self._ready(self.alertmanagers, position)

        rules = write_yaml(home / "rules.yml", scaled_rule_groups(self.pack, settings.scale))
        self._discovery_files = self._discovery_paths(workdir)
        self.rediscover()
        # Every replica may scrape every other one (the self-scrape): their ports are picked before any starts.
        ports = [self._port() for _ in homes]
        for replica, replica_home in enumerate(homes):
            name = self._prometheus_name(replica, replicas)
            config = prometheus_config(
                self.scraped_targets(),
                self.cluster_server.address,
                [rules],
                [am.url.removeprefix("http://") for am in self.alertmanagers],
                scrape_s=settings.scaled(settings.scrape_s),
                evaluation_s=settings.scaled(settings.evaluation_s),
                scraper=name,
                discovery_files=self._discovery_files,
            )
            if replicas > 1:
                # As the Prometheus Operator configures every replica of a Prometheus resource.
                config["global"]["external_labels"] = {"prometheus": settings.prometheus_name, REPLICA_LABEL: name}
                if config.get("alerting"):
                    config["alerting"]["alert_relabel_configs"] = [{"action": "labeldrop", "regex": REPLICA_LABEL}]
            start_prometheus = functools.partial(
                self._launch_prometheus, prometheus_bin, replica_home, config, replica, name, ports
            )
            self.prometheuses.append(start_prometheus())
            self._relaunch[name] = start_prometheus
        for position in range(len(self.prometheuses)):
            self._ready(self.prometheuses, position)
        self._readdress_self_scrape(ports)
        self.prometheus = self.prometheuses[0].process
        self.prometheus_url = self.prometheuses[0].url

    def scraped_targets(self) -> list[ScrapeTargetLike]:
        """The cluster's targets its Prometheus scrapes (:mod:`conformance.twin.scraped`)."""
        return scraped(self.cluster_server.cluster, self.settings.scraped_names)

    def _discovery_paths(self, workdir: Path) -> dict[GroupKey, Path]:
        """A discovery file for each scrape group of the jobs whose targets can leave discovery."""
        folder = workdir / "discovery"
        folder.mkdir(exist_ok=True)
        keys = sorted({group_key(t) for t in self.scraped_targets() if t.job in self.settings.discovered_jobs})
        return {key: folder / f"{index}.json" for index, key in enumerate(keys)}

    def rediscover(self) -> bool:
        """Write every discovery file with the targets the cluster has now, as Kubernetes discovery would see them
        (a file that changed is replaced whole, by a rename, so Prometheus never reads half of it). Called after
        every fault and revert; True when a file changed."""
        if not self._discovery_files:
            return False
        server = self.cluster_server
        with server.at_now():
            entries = discovery_entries(self.scraped_targets(), server.address, self._discovery_files)
        changed = False
        for key, path in self._discovery_files.items():
            text = json.dumps(entries[key], sort_keys=True)
            if path.exists() and path.read_text(encoding="utf-8") == text:
                continue
            fresh = path.with_name(path.name + ".new")
            fresh.write_text(text, encoding="utf-8")
            os.replace(fresh, path)
            changed = True
        return changed

    def _port(self) -> int:
        port = free_port()
        self._ports.append(port)
        return port

    def _ready(self, instances: list[Any], position: int) -> None:
        """Wait until ``instances[position]`` answers ``/-/ready``. When another process took one of its ports
        between pick and bind, start it again on fresh ones (at most :data:`PORT_ATTEMPTS` times), each new
        start put in the list at once so that :meth:`close` stops it whatever happens next."""
        for _ in range(PORT_ATTEMPTS):
            instance: _Listening = instances[position]
            try:
                instance.process.wait_ready(f"{instance.url}/-/ready", READY_TIMEOUT_S)
                return
            except BackendError:
                if not instance.process.lost_its_port():
                    raise
            instance.process.stop()
            instances[position] = self._relaunch[instance.name](fresh_ports=True)
        instances[position].process.wait_ready(f"{instances[position].url}/-/ready", READY_TIMEOUT_S)

    def _launch_prometheus(
        self,
        binary: Path,
        home: Path,
        config: dict[str, Any],
        replica: int,
        name: str,
        ports: list[int],
        fresh_ports: bool = False,
    ) -> PrometheusInstance:
        settings = self.settings
        if fresh_ports:
            ports[replica] = self._port()  # the replicas started before it are told by _readdress_self_scrape
        port = ports[replica]
        process = ManagedProcess(
            "prometheus" + (f"-{replica}" if settings.prometheus_replicas > 1 else ""),
            [
                str(binary),
                f"--config.file={self._write_prometheus_config(home, config, ports)}",
                f"--storage.tsdb.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1d",
                f"--query.lookback-delta={format_duration(settings.scaled(LOOKBACK_DELTA_S))}",
                f"--rules.alert.resend-delay={format_duration(settings.scaled(RESEND_DELAY_S))}",
                f"--rules.alert.for-grace-period={format_duration(settings.scaled(FOR_GRACE_PERIOD_S))}",
            ],
            home / "prometheus.log",
            home,
        ).start()
        return PrometheusInstance(process, f"http://127.0.0.1:{port}", replica, name)

    def _launch_alertmanager(
        self,
        binary: Path,
        index: int,
        setup_name: str,
        config: dict[str, Any],
        receivers: list[CapturedReceiver],
        replica: int,
        cluster_ports: list[int],
        fresh_ports: bool = False,
    ) -> AlertmanagerInstance:
        assert self.workdir is not None
        name = f"alertmanager-{index}-{replica}"
        home = self.workdir / name
        home.mkdir(exist_ok=True)
        if fresh_ports and cluster_ports:
            # Its peers keep the old address; it joins them through theirs, and the mesh knows it from then on.
            cluster_ports[replica] = self._port()
        port = self._port()
        process = ManagedProcess(
            f"alertmanager[{setup_name}]" + (f"-{replica}" if len(cluster_ports) > 1 else ""),
            [
                str(binary),
                f"--config.file={write_yaml(home / 'alertmanager.yml', _signed(config, name))}",
                f"--storage.path={home / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                *self._cluster_flags(cluster_ports, replica),
                "--log.level=debug",
            ],
            home / "alertmanager.log",
            home,
        ).start()
        return AlertmanagerInstance(setup_name, process, f"http://127.0.0.1:{port}", receivers, replica, name)

    def _write_prometheus_config(self, home: Path, config: dict[str, Any], ports: list[int]) -> Path:
        """Write ``config`` with the self-scrape of the Prometheus replicas on ``ports`` and every Alertmanager
        (when the pack reads their own families), and remember what was written for :meth:`_readdress_self_scrape`."""
        jobs = self.settings.self_jobs
        written = copy.deepcopy(config)
        if jobs is not None:
            names = [self._prometheus_name(replica, len(ports)) for replica in range(len(ports))]
            written["scrape_configs"] = [
                *config["scrape_configs"],
                *scrape_configs(
                    self._self_targets(jobs, ports, names),
                    self.settings.prometheus_name.split("/", 1)[0],
                    scrape_s=self.settings.scaled(self.settings.scrape_s),
                    keep=wanted_names(selectors_in(rule.expr for group in self.pack.groups for rule in group.rules)),
                ),
            ]
        self._self_scraped[home] = (config, tuple(ports))
        return write_yaml(home / "prometheus.yml", written)

    def _readdress_self_scrape(self, ports: list[int]) -> None:
        """A replica started again on a fresh port (:meth:`_ready`) is scraped by the others at its old address:
        their configurations are written again with the new one and reloaded (SIGHUP; Prometheus keeps the scrape
        pools and rule groups whose configuration did not change)."""
        if self.settings.self_jobs is None:
            return
        for instance in self.prometheuses:
            home = instance.process.cwd
            config, written_ports = self._self_scraped[home]
            if written_ports != tuple(ports):
                self._write_prometheus_config(home, config, ports)
                instance.process.reload()

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
        errors = stop_processes(list(reversed(self.processes)))
        for server in (self.cluster_server, self.capture):
            with contextlib.suppress(Exception):
                server.stop()
        if self.workdir is not None:
            remove_temp_dir(self.workdir)
        for port in self._ports:
            release_port(port)
        if errors:
            raise BackendError("could not stop every twin process: " + "; ".join(errors))
