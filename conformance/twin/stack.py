"""One twin stack: the cluster server, the capture webhook, one Alertmanager per routing set-up, one Prometheus.

Everything listens on 127.0.0.1 on ports picked free, in a temp dir of its own; each server is health-checked
(``/-/ready``) before use. With ``backfill_s`` set (and a cluster that can say what Prometheus would store),
Prometheus starts warm: that much healthy virtual time is backfilled into its storage first
(:mod:`conformance.twin.backfill`) and the cluster's live clock continues from there.
:meth:`TwinStack.close` stops everything in reverse order and removes the temp dir, whatever state the start
reached; an ``atexit`` sweep (:mod:`conformance.twin.processes`) backs it up.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import BackendError
from conformance.model.durations import format_duration
from conformance.packs.model import Pack
from conformance.routing.capture import CapturedReceiver, Rewrite, rewrite_config
from conformance.timescale import scale_seconds
from conformance.tools import find_tool
from conformance.twin.backfill import SampledCluster, create_blocks, openmetrics, sample_warmup
from conformance.twin.capture import CaptureServer
from conformance.twin.exporter import ClusterLike, ClusterServer
from conformance.twin.processes import ManagedProcess, free_port, make_temp_dir, remove_temp_dir
from conformance.twin.promconfig import prometheus_config, scaled_rule_groups, write_yaml

READY_TIMEOUT_S = 30.0

#: Prometheus defaults that are durations of the monitored world, scaled with it.
LOOKBACK_DELTA_S = 300.0
RESEND_DELAY_S = 60.0
FOR_GRACE_PERIOD_S = 600.0


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

    def scaled(self, seconds: float) -> float:
        return scale_seconds(seconds, self.scale)


@dataclass
class AlertmanagerInstance:
    setup: str
    process: ManagedProcess
    url: str
    receivers: list[CapturedReceiver]


class TwinStack:
    """Start with :meth:`start` (or as a context manager); ``close`` always stops everything."""

    def __init__(self, cluster: ClusterLike, pack: Pack, settings: StackSettings) -> None:
        self.pack = pack
        self.settings = settings
        self.cluster_server = ClusterServer(cluster, settings.scale)
        self.capture = CaptureServer()
        self.alertmanagers: list[AlertmanagerInstance] = []
        self.prometheus: ManagedProcess | None = None
        self.prometheus_url = ""
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
        return found + ([self.prometheus] if self.prometheus else [])

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
            home = workdir / f"alertmanager-{index}"
            home.mkdir()
            port = free_port()
            process = ManagedProcess(
                f"alertmanager[{setup.name}]",
                [
                    str(alertmanager_bin),
                    f"--config.file={write_yaml(home / 'alertmanager.yml', config)}",
                    f"--storage.path={home / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",  # no gossip port: a single instance
                    "--log.level=debug",
                ],
                home / "alertmanager.log",
                home,
            ).start()
            url = f"http://127.0.0.1:{port}"
            self.alertmanagers.append(AlertmanagerInstance(setup.name, process, url, receivers))

        home = workdir / "prometheus"
        home.mkdir()
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
            self.backfilled_s = settings.backfill_s
            self.backfilled_series = len({key for snapshot in snapshots for key in snapshot.samples})
            self.backfill_wall_s = time.monotonic() - mark
        else:
            self.cluster_server.start()
        for am in self.alertmanagers:
            am.process.wait_ready(f"{am.url}/-/ready", READY_TIMEOUT_S)

        rules = write_yaml(home / "rules.yml", scaled_rule_groups(self.pack, settings.scale))
        config = prometheus_config(
            self.cluster_server.cluster.targets(),
            self.cluster_server.address,
            [rules],
            [am.url.removeprefix("http://") for am in self.alertmanagers],
            scrape_s=settings.scaled(settings.scrape_s),
            evaluation_s=settings.scaled(settings.evaluation_s),
        )
        port = free_port()
        self.prometheus = ManagedProcess(
            "prometheus",
            [
                str(prometheus_bin),
                f"--config.file={write_yaml(home / 'prometheus.yml', config)}",
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
        self.prometheus_url = f"http://127.0.0.1:{port}"
        self.prometheus.wait_ready(f"{self.prometheus_url}/-/ready", READY_TIMEOUT_S)

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
