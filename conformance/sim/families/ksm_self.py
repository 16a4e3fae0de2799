"""kube-state-metrics' own metrics: its telemetry endpoint (port 8081), where its reflectors count their calls.

kube-state-metrics serves two endpoints: the object state on ``http`` (8080, :mod:`conformance.sim.families.ksm`)
and its own registry on ``metrics`` (8081, ``--telemetry-port``; pkg/app/server.go ``ksmMetricsRegistry``). The
chart (kube-state-metrics 8.4.0 in kube-prometheus-stack 88.5.3) puts the second port in its Service and
ServiceMonitor only with ``selfMonitor.enabled``, which defaults to false: a default install does not scrape it,
and the default alerts KubeStateMetricsListErrors, ...WatchErrors, ...ShardingMismatch and ...ShardsMissing read
series it never has. The simulated cluster serves the endpoint when the environment turns self-monitoring on
(``Environment.ksm_self_monitor``), under the ServiceMonitor's job (``kube-state-metrics``, its ``jobLabel``
``app.kubernetes.io/name``) and endpoint ``metrics``.

Families (kube-state-metrics v2.20.0): ``kube_state_metrics_list_total`` and ``kube_state_metrics_watch_total``
{result, resource} (pkg/watch/watch.go: the InstrumentedListerWatcher counts every List and Watch call of a
resource's reflector, ``success`` or ``error``; a label pair exists from its first increment), the sharding gauges
``kube_state_metrics_shard_ordinal{shard_ordinal="0"} 0`` and ``kube_state_metrics_total_shards 1``
(pkg/sharding/metrics.go, unsharded), and ``kube_state_metrics_build_info``.

How often a reflector calls (client-go tools/cache/reflector.go): it lists once when it starts, then watches; the
API server ends each watch after ``timeoutSeconds`` = minWatchTimeout (5 min) x (1 + rand), so 5 to 10 min,
450 s on average, and the reflector watches again from its resourceVersion without listing. Healthy, then,
``list_total{result="success"}`` is 1 per resource and stays there, and ``watch_total{result="success"}`` grows by
one per resource every 450 s on average (modelled at that mean rate). When kube-state-metrics loses the right to
list and watch a resource, the watch already open keeps streaming (authorization is checked when a request
starts); at its end the new watch is refused (one ``watch_total{result="error"}``), ListAndWatch returns, and the
reflector's back-off manager (800 ms doubling to 30 s, jitter 1.0: each wait between 1 and 2 times its step)
runs ListAndWatch again, whose List is refused every time (``list_total{result="error"}``; with only the watch
refused, the List succeeds and the Watch after it fails: ``watch_total{result="error"}``): the errors come at
1.2, 2.4, 4.8, 9.6, 19.2 and 38.4 s (the steps at their mean jitter, x1.5), then every 45 s on average. Once the
permission is back the next List succeeds (modelled at the moment it comes back) and watching resumes.
(The waits: client-go reflector.go, ``NewExponentialBackoffManager(800*time.Millisecond, 30*time.Second,
2*time.Minute, 2.0, 1.0, ...)``, "backoff will stop at [30,60) sec interval"; the watch length:
``timeoutSeconds := int64(minWatchTimeout.Seconds() * (rand.Float64() + 1.0))``.)

Not modelled: client-go's watch-list mode (feature WatchListClient, on by default since client-go 1.35;
kube-state-metrics v2.20.0 is built with v0.36), where the initial sync is a streaming Watch and the reflector
falls back to List only when that fails. Against an API server that streams initial events, a healthy
kube-state-metrics then has no ``list_total`` series at all, and a refused resource counts a watch error and a list
error per attempt (KubeStateMetricsListErrors fires either way). The model is the classic List-then-Watch; which
one a kind cluster at Kubernetes 1.34 gets (its API server's WatchList gate) is not checked here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from conformance import versions
from conformance.sim.exposition import Exposed

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster
    from conformance.sim.state import PodState

PREFIXES = ("kube_state_metrics_",)
TELEMETRY_PORT = 8081
ENDPOINT = "metrics"

#: The chart's ``collectors`` (kube-state-metrics 8.4.0 values.yaml), passed as ``--resources``: one reflector each.
RESOURCES = (
    "certificatesigningrequests",
    "configmaps",
    "cronjobs",
    "daemonsets",
    "deployments",
    "endpointslices",
    "horizontalpodautoscalers",
    "ingresses",
    "jobs",
    "leases",
    "limitranges",
    "mutatingwebhookconfigurations",
    "namespaces",
    "networkpolicies",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "poddisruptionbudgets",
    "pods",
    "replicasets",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "services",
    "statefulsets",
    "storageclasses",
    "validatingwebhookconfigurations",
    "volumeattachments",
)

#: client-go's reflector: minWatchTimeout and the mean watch length it gives (timeoutSeconds = min x (1 + rand)).
MIN_WATCH_TIMEOUT_S = 300.0
MEAN_WATCH_S = MIN_WATCH_TIMEOUT_S * 1.5
#: The reflector's back-off manager: NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0).
BACKOFF_INITIAL_S = 0.8
BACKOFF_CAP_S = 30.0
BACKOFF_FACTOR = 2.0
MEAN_JITTER = 1.5  # wait.Jitter(d, 1.0) is d + rand * d
#: The simulated cluster ends the open watch this long after the permission is lost (a real one: 0 to 600 s).
WATCH_RESIDUAL_S = MIN_WATCH_TIMEOUT_S


def backoff_waits() -> tuple[float, ...]:
    """The waits between refused lists until the back-off reaches its cap, at their mean jitter."""
    waits: list[float] = []
    step = BACKOFF_INITIAL_S
    while step < BACKOFF_CAP_S:
        waits.append(step * MEAN_JITTER)
        step *= BACKOFF_FACTOR
    return tuple(waits)


def capped_wait() -> float:
    """The mean wait between refused lists once the back-off is capped (45 s)."""
    return BACKOFF_CAP_S * MEAN_JITTER


@dataclass
class ListDenial:
    """kube-state-metrics may no longer list or watch ``resource`` from ``since`` until ``until`` (None: still).

    ``watch_only``: only the watch is refused. Then every List succeeds and the Watch after it fails, at the same
    back-off: the attempts count in ``list_total{result="success"}`` and ``watch_total{result="error"}``.
    """

    resource: str
    since: float
    until: float | None = None
    watch_only: bool = False

    @property
    def watch_ends(self) -> float:
        """When the open watch ends and the first request is refused."""
        return self.since + WATCH_RESIDUAL_S

    def refused(self, t: float) -> bool:
        """Whether the reflector has met the refusal by ``t`` (and the permission is still gone)."""
        return self.watch_ends <= t and (self.until is None or t < self.until)

    def effective(self) -> bool:
        """Whether the reflector met the refusal at all before the permission came back."""
        return self.until is None or self.watch_ends < self.until

    def list_errors(self, t: float) -> float:
        """``list_total{result="error"}`` added by ``t``."""
        return 0.0 if self.watch_only else self.attempts(t)

    def watch_errors(self, t: float) -> float:
        """``watch_total{result="error"}`` added by ``t``: the refused re-watch, and (watch only) one per attempt."""
        if not self.effective() or t < self.watch_ends:
            return 0.0
        return 1.0 + (self.attempts(t) if self.watch_only else 0.0)

    def attempts(self, t: float) -> float:
        """The ListAndWatch attempts after the first refusal, by ``t``: the ramp's steps one by one, then the
        capped back-off's mean rate."""
        end = t if self.until is None else min(t, self.until)
        if not self.effective() or end < self.watch_ends:
            return 0.0
        attempt = self.watch_ends
        count = 0.0
        for wait in backoff_waits():
            attempt += wait
            if attempt > end:
                return count
            count += 1
        return count + (end - attempt) / capped_wait()

    def ramp_moments(self) -> list[float]:
        """The moments the error count steps (the breakpoints of the simulated cluster)."""
        moments = [self.watch_ends]
        for wait in backoff_waits():
            moments.append(moments[-1] + wait)
        return moments

    def watching_lost_s(self, t: float) -> float:
        """Seconds up to ``t`` in which the resource had no watch (no ``watch_total{result="success"}``)."""
        end = t if self.until is None else min(t, self.until)
        return max(0.0, end - self.watch_ends) if self.effective() else 0.0


_FAMILIES: dict[str, tuple[str, str]] = {
    "kube_state_metrics_list_total": ("counter", "Number of total resource list calls in kube-state-metrics"),
    "kube_state_metrics_watch_total": ("counter", "Number of total resource watch calls in kube-state-metrics"),
    "kube_state_metrics_shard_ordinal": ("gauge", "Current sharding ordinal/index of this instance"),
    "kube_state_metrics_total_shards": ("gauge", "Number of total shards this instance is aware of"),
    "kube_state_metrics_build_info": (
        "gauge",
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which "
        "kube_state_metrics was built, and the goos and goarch for the build.",
    ),
}


def emit(cluster: SimulatedCluster, pod: PodState, t: float, out: Exposed) -> None:
    """What the telemetry endpoint of kube-state-metrics pod ``pod`` serves at ``t``: its counters count from the
    pod's start (a new pod starts from zero and lists every resource once)."""
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    started = pod.scheduled_at
    for resource in RESOURCES:
        denials = [d for d in cluster.ksm_denials if d.resource == resource and d.since >= started]
        errors = sum(d.list_errors(t) for d in denials)
        # A relist succeeds when the permission comes back after a refusal; with only the watch refused, every
        # attempt's List succeeds.
        relists = sum(1 for d in denials if d.effective() and d.until is not None and d.until <= t)
        listed = sum(d.attempts(t) for d in denials if d.watch_only)
        watch_errors = sum(d.watch_errors(t) for d in denials)
        out.add("kube_state_metrics_list_total", {"resource": resource, "result": "success"}, 1.0 + relists + listed)
        if errors > 0:
            out.add("kube_state_metrics_list_total", {"resource": resource, "result": "error"}, errors)
        watching_s = max(0.0, t - started) - sum(d.watching_lost_s(t) for d in denials)
        out.add(
            "kube_state_metrics_watch_total",
            {"resource": resource, "result": "success"},
            1.0 + relists + watching_s / MEAN_WATCH_S,
        )
        if watch_errors:
            out.add("kube_state_metrics_watch_total", {"resource": resource, "result": "error"}, watch_errors)
    out.add("kube_state_metrics_shard_ordinal", {"shard_ordinal": "0"}, 0)
    out.add("kube_state_metrics_total_shards", {}, 1)
    out.add(
        "kube_state_metrics_build_info",
        {
            "branch": "",
            "goarch": "amd64",
            "goos": "linux",
            "goversion": "go1.25.1",
            "revision": "",
            "tags": "",
            "version": versions.KUBE_STATE_METRICS,
            "client_go_version": "v0.36.3",
        },
        1,
    )
