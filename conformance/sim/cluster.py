"""The simulated cluster: Kubernetes objects in virtual time, faults acting on them, exporters reading them.

Time only moves forward through :meth:`SimulatedCluster.advance_to`. Counters are integrated exactly: their
rates are constant between *breakpoints* (a pod starting, a container crashing or restarting, a fault), and
every state change schedules a breakpoint, so integrating segment by segment at the rate in force at each
segment's start is exact. Gauges (memory, volume fill) are computed in closed form when read.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import re
from collections.abc import Callable, Collection, Iterator
from typing import Any

from conformance import versions
from conformance.model.scenario import Scenario
from conformance.model.workloads import ContainerSpec, Environment, JobSpec, ScrapeSpec, WorkloadSpec
from conformance.sim import faults as fault_impl
from conformance.sim.exposition import Exposed, render
from conformance.sim.families import (
    apps,
    cadvisor,
    control_plane,
    ksm,
    ksm_self,
    kubelet,
    kubelet_health,
    node_exporter,
    operator,
)
from conformance.sim.families.ksm_self import ListDenial
from conformance.sim.faults import FaultHandle
from conformance.sim.latency import LatencyModel, latency_model
from conformance.sim.naming import hex_id, name_suffix, object_uid, revision_hash
from conformance.sim.state import (
    POD_READY_S,
    POD_START_S,
    PRE_EXISTING_AGE_S,
    AutoscalerState,
    BudgetState,
    ClaimState,
    ContainerState,
    JobRun,
    NodeState,
    PodState,
    QuotaState,
    VolumeState,
    WorkloadState,
)
from conformance.sim.types import Sample, ScrapeTarget, SeriesKey, series_key

DEFAULT_EPOCH = 1_700_000_000.0
"""Unix time of virtual second 0 (timestamps such as ``kube_pod_created`` are ``epoch + t``)."""

# kube-prometheus-stack's default kubelet.serviceMonitor.cAdvisorMetricRelabelings drop these before storage.
KPS_CADVISOR_DROP = (
    "container_cpu_(cfs_throttled_seconds_total|load_average_10s|system_seconds_total|user_seconds_total)"
    "|container_fs_(io_current|io_time_seconds_total|io_time_weighted_seconds_total|reads_merged_total"
    "|sector_reads_total|sector_writes_total|writes_merged_total)"
    "|container_memory_(mapped_file|swap)"
    "|container_(file_descriptors|tasks_state|threads_max)"
    "|container_spec.*"
)

#: The kubelet's endpoints kube-prometheus-stack scrapes by default (kubelet.serviceMonitor: cAdvisor, probes).
KUBELET_ENDPOINTS = (("/metrics", "kubelet"), ("/metrics/cadvisor", "cadvisor"), ("/metrics/probes", "probes"))

AccKey = tuple[Any, ...]


class SimulatedCluster:
    """A cluster built from a profile's :class:`Environment`, changed by faults, read through its exporters.

    ``epoch`` is the Unix time of virtual second 0. ``release`` is the kube-prometheus-stack Helm release
    name (it prefixes the monitoring components' names). With ``kube_prometheus_stack_drops`` (default) the
    stored samples lose what kube-prometheus-stack's ServiceMonitors drop (``container_spec_*`` and other
    cAdvisor families); the exposition always has everything the exporter serves.
    """

    def __init__(
        self,
        env: Environment,
        *,
        seed: int = 0,
        epoch: float = DEFAULT_EPOCH,
        release: str = "kube-prometheus-stack",
        kube_prometheus_stack_drops: bool = True,
        sampled_names: Collection[str] | None = None,
    ) -> None:
        """``sampled_names``: when given, only series of these names will ever be read, so the counters of
        exporters that serve none of them are not integrated (depth 3 runs thousands of steps)."""
        if not env.nodes:
            raise ValueError("the environment declares no node: a cluster needs at least one")
        self.env = env
        self.seed = seed
        self.epoch = epoch
        self.release = release
        self.cadvisor_drop = KPS_CADVISOR_DROP if kube_prometheus_stack_drops else ""
        self._now = 0.0
        #: Since when nothing changed but the clock: no event ran and no fault came or went. Every counter's
        #: rate and every gauge's closed form of now held all along, so the cluster can be read as it was at
        #: any moment since (:meth:`exposition` ``at``).
        self._steady_since = 0.0
        self._changes = 0  # how many changes of state so far: the key of the rates cached by _steady_rates
        self._rates_of: tuple[int, dict[AccKey, float]] | None = None
        self._events: list[tuple[float, int, Callable[[], None] | None]] = []
        self._sequence = itertools.count()
        self.acc: dict[AccKey, float] = {}
        wanted = None if sampled_names is None else tuple(sampled_names)
        self._integrate_cadvisor = wanted is None or any(n.startswith(("container_", "machine_")) for n in wanted)
        self._integrate_node_exporter = wanted is None or any(n.startswith("node_") for n in wanted)
        self.nodes: dict[str, NodeState] = {}
        self.workloads: list[WorkloadState] = []
        self.pods: list[PodState] = []
        self.jobs: list[JobRun] = []
        self.claims: list[ClaimState] = []
        self.volumes: list[VolumeState] = []  # PersistentVolumes a fault created, beside the claims' own
        self.ksm_denials: list[ListDenial] = []  # resources kube-state-metrics lost the right to list (a fault)
        self.autoscalers: list[AutoscalerState] = []
        self.quotas: list[QuotaState] = []
        self.budgets: list[BudgetState] = []
        self.tolerate_all: set[tuple[str, str]] = set()
        self.host_network: set[tuple[str, str]] = set()
        #: Control-plane components control-plane-down stopped, by scrape job (sim.families.control_plane).
        self.stopped_components: set[str] = set()
        self._next_ip: dict[str, int] = {}
        self._faults: list[FaultHandle] = []
        self._fault_ids = itertools.count(1)
        self._latency_baseline: dict[tuple[str, str], LatencyModel] = {}
        self._fixed_targets: dict[str, ScrapeTarget] | None = None  # see _fixed
        self._build()

    # ------------------------------------------------------------------ building

    @property
    def ksm_name(self) -> str:
        return f"{self.release}-kube-state-metrics"

    @property
    def node_exporter_name(self) -> str:
        return f"{self.release}-prometheus-node-exporter"

    def _build(self) -> None:
        env = self.env
        names = [n.name for n in env.nodes]
        if len(set(names)) != len(names):
            raise ValueError(f"node names must be unique, got {names}")
        has_workers = any(n.role == "worker" for n in env.nodes)
        created = -PRE_EXISTING_AGE_S * 24
        for index, spec in enumerate(env.nodes):
            self.nodes[spec.name] = NodeState(
                spec=spec,
                index=index,
                ip=spec.internal_ip or f"172.18.0.{index + 2}",
                uid=object_uid(self.seed, "node", spec.name),
                created=created,
                # kind removes the control-plane taint when there is no worker to run anything else.
                control_plane_taint=spec.role == "control-plane" and has_workers,
            )
        seen: set[tuple[str, str]] = set()
        for workload_spec in env.workloads:
            key = (workload_spec.namespace, workload_spec.name)
            if key in seen:
                raise ValueError(f"workload {key[0]}/{key[1]} is declared twice")
            seen.add(key)
        # A profile may declare the monitoring components itself; its declaration then wins.
        monitoring = [m for m in self._monitoring_workloads() if (m.namespace, m.name) not in seen]
        self._monitoring = {(m.namespace, m.name) for m in monitoring if m.kind != "DaemonSet"}
        for workload_spec in [*monitoring, *env.workloads]:
            self._check_workload(workload_spec)
            self._add_workload(workload_spec)
        for claim in env.volume_claims:
            self.claims.append(
                ClaimState(
                    spec=claim,
                    uid=object_uid(self.seed, "pvc", claim.namespace, claim.name),
                    volume_name=f"pvc-{object_uid(self.seed, 'pvc', claim.namespace, claim.name)}",
                    created=-PRE_EXISTING_AGE_S * 2,
                )
            )
        for job in env.jobs:
            self._add_job_run(job, created=-PRE_EXISTING_AGE_S, failed=False)
        created_policy = -PRE_EXISTING_AGE_S * 2
        for autoscaler in env.autoscalers:
            uid = object_uid(self.seed, "hpa", autoscaler.namespace, autoscaler.name)
            self.autoscalers.append(AutoscalerState(autoscaler, uid, created_policy))
        for quota in env.quotas:
            self.quotas.append(
                QuotaState(quota, object_uid(self.seed, "quota", quota.namespace, quota.name), created_policy)
            )
        for budget in env.disruption_budgets:
            uid = object_uid(self.seed, "pdb", budget.namespace, budget.name)
            self.budgets.append(BudgetState(budget, uid, created_policy))

    def _monitoring_workloads(self) -> list[WorkloadSpec]:
        ns = self.env.monitoring_namespace
        ksm_spec = WorkloadSpec(
            kind="Deployment",
            name=self.ksm_name,
            namespace=ns,
            containers=(
                ContainerSpec(
                    name="kube-state-metrics",
                    image=f"registry.k8s.io/kube-state-metrics/kube-state-metrics:{versions.KUBE_STATE_METRICS}",
                    cpu_limit_cores=None,
                    memory_limit_bytes=None,
                ),
            ),
            labels={"app.kubernetes.io/name": "kube-state-metrics"},
        )
        ne_spec = WorkloadSpec(
            kind="DaemonSet",
            name=self.node_exporter_name,
            namespace=ns,
            containers=(
                ContainerSpec(
                    name="node-exporter",
                    image=f"quay.io/prometheus/node-exporter:{versions.NODE_EXPORTER}",
                    cpu_limit_cores=None,
                    memory_limit_bytes=None,
                ),
            ),
            labels={"app.kubernetes.io/name": "prometheus-node-exporter", "jobLabel": "node-exporter"},
        )
        # The chart's node-exporter tolerates every taint and runs on the host network.
        self.tolerate_all.add((ns, ne_spec.name))
        self.host_network.add((ns, ne_spec.name))
        return [ksm_spec, ne_spec]

    def _check_workload(self, spec: WorkloadSpec) -> None:
        where = f"workload {spec.namespace}/{spec.name}"
        if not spec.containers:
            raise ValueError(f"{where} has no container")
        if spec.replicas < 0:
            raise ValueError(f"{where} has a negative replica count {spec.replicas}")
        if spec.scrape is not None:
            unknown = [m for m in spec.scrape.extra_metrics if m not in apps.EXTRA_METRICS]
            if unknown:
                raise ValueError(f"{where}: unknown extra_metrics {unknown}; known: {sorted(apps.EXTRA_METRICS)}")
        if spec.http is not None:
            self._latency_baseline[(spec.namespace, spec.name)] = latency_model(
                spec.http.latency_seconds, 0.95, spec.http.buckets
            )

    def _add_workload(self, spec: WorkloadSpec) -> None:
        workload = WorkloadState(
            spec=spec,
            uid=object_uid(self.seed, "workload", spec.kind, spec.namespace, spec.name),
            created=-PRE_EXISTING_AGE_S * 2,
            revision=revision_hash(self.seed, spec.namespace, spec.name, 1),
        )
        workload.revisions.append(workload.revision)
        self.workloads.append(workload)
        start = -PRE_EXISTING_AGE_S
        if spec.kind == "DaemonSet":
            for node in self.daemonset_nodes(workload, start):
                self.new_pod(workload, start, node=node.name)
        else:
            for ordinal in range(spec.replicas):
                slot = f"{spec.name}-{ordinal}" if spec.kind == "StatefulSet" else None
                self.new_pod(workload, start, node=self.pick_node(workload, start), slot_name=slot)

    def _add_job_run(
        self, spec: JobSpec, *, created: float, failed: bool, name: str | None = None, completes: bool = True
    ) -> JobRun:
        """A run of ``spec`` created at ``created``: it fails, or succeeds after the job's ``run_seconds``, or
        (``completes`` False) runs until it is deleted. ``name``: the Job's own name (a fault's Job)."""
        # A CronJob names its Jobs after the scheduled minute; a plain Job keeps its own name.
        if name is None:
            name = f"{spec.cronjob}-{int((self.epoch + created) // 60)}" if spec.cronjob else spec.name
        count = sum(1 for run in self.jobs if run.spec == spec) + 1
        run = JobRun(
            spec=spec,
            name=name,
            uid=object_uid(self.seed, "job", spec.namespace, name, count),
            created=created,
            completed=None if failed or not completes else created + spec.run_seconds,
            failed=failed,
        )
        self.jobs.append(run)
        if run.completed is not None:
            self.breakpoint(run.completed)
        node = self.pick_node(None, created)
        pod_name = f"{name}-{name_suffix(self.seed, 'jobpod', spec.namespace, name, count)}"
        uid = object_uid(self.seed, "pod", spec.namespace, pod_name)
        container = ContainerState(
            spec=ContainerSpec(name=spec.name, image=spec.image, cpu_limit_cores=None, memory_limit_bytes=None),
            image=spec.image,
        )
        node_state = self.nodes.get(node) if node else None
        self.pods.append(
            PodState(
                name=pod_name,
                namespace=spec.namespace,
                uid=uid,
                # A pod that keeps running holds its sandbox's address; the short runs are long gone.
                ip=self._alloc_ip(node_state) if node_state is not None and not completes else "",
                node=node,
                owner_kind="Job",
                owner_name=name,
                created=created,
                containers=[container],
                job=run,
                sandbox_id=hex_id(self.seed, uid, "sandbox"),
            )
        )
        return run

    # ------------------------------------------------------------------ scheduling

    def node_labels(self, node: NodeState) -> dict[str, str]:
        labels = {
            "kubernetes.io/hostname": node.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            **node.spec.labels,
        }
        if node.spec.role == "control-plane":
            labels["node-role.kubernetes.io/control-plane"] = ""
        return labels

    def _fits(self, workload: WorkloadState | None, node: NodeState) -> bool:
        if workload is None:
            return not node.control_plane_taint
        selector = workload.spec.node_selector
        labels = self.node_labels(node)
        if any(labels.get(k) != v for k, v in selector.items()):
            return False
        if (workload.namespace, workload.name) in self.tolerate_all:
            return True
        return not node.control_plane_taint

    def daemonset_nodes(self, workload: WorkloadState, t: float) -> list[NodeState]:
        """The nodes a DaemonSet runs on: those its selector and tolerations allow (cordoned ones too)."""
        return [node for node in self.nodes.values() if self._fits(workload, node)]

    def pick_node(self, workload: WorkloadState | None, t: float) -> str | None:
        """The node the scheduler would pick: schedulable, fitting, least loaded with this workload's pods."""
        candidates = [n for n in self.nodes.values() if n.schedulable(t) and self._fits(workload, n)]
        if not candidates:
            return None
        if workload is not None and (workload.spec.namespace, workload.spec.name) in self._monitoring:
            # The monitoring stack stays off the nodes the profile's faults take down, where it can (see
            # Environment.fault_nodes): the kind layout reserves a worker for it the same way.
            spared = [n for n in candidates if n.name not in self.env.fault_nodes]
            candidates = spared or candidates

        def load(node: NodeState) -> tuple[int, int, int]:
            own = sum(1 for p in self.pods if p.workload is workload and p.node == node.name)
            total = sum(1 for p in self.pods if p.node == node.name and p.job is None)
            return (own if workload is not None else 0, total, node.index)

        return min(candidates, key=load).name

    def _alloc_ip(self, node: NodeState) -> str:
        n = self._next_ip.get(node.name, 2)
        self._next_ip[node.name] = n + 1
        return f"10.244.{node.index}.{n}"

    def new_pod(
        self,
        workload: WorkloadState,
        t: float,
        *,
        node: str | None,
        slot_name: str | None = None,
        revision: str | None = None,
        broken: bool = False,
        readiness_failing: bool = False,
    ) -> PodState:
        """Create a pod of ``workload`` at ``t`` (its controller would), named as its controller names them."""
        workload.pods_created += 1
        count = workload.pods_created
        rev = revision or workload.revision
        spec = workload.spec
        suffix = name_suffix(self.seed, "pod", spec.namespace, spec.name, count)
        if spec.kind == "Deployment":
            name, owner_kind, owner_name = f"{spec.name}-{rev}-{suffix}", "ReplicaSet", f"{spec.name}-{rev}"
        elif spec.kind == "StatefulSet":
            name, owner_kind, owner_name = slot_name or f"{spec.name}-0", "StatefulSet", spec.name
        else:
            name, owner_kind, owner_name = f"{spec.name}-{suffix}", "DaemonSet", spec.name
        uid = object_uid(self.seed, "pod", spec.namespace, name, count)
        node_state = self.nodes.get(node) if node else None
        if node_state is None:
            ip = ""
        elif (spec.namespace, spec.name) in self.host_network:
            ip = node_state.ip
        else:
            ip = self._alloc_ip(node_state)
        containers = [
            ContainerState(spec=c, image=_broken_image(c.image) if broken else c.image, image_broken=broken)
            for c in spec.containers
        ]
        pod = PodState(
            name=name,
            namespace=spec.namespace,
            uid=uid,
            ip=ip,
            node=node_state.name if node_state else None,
            owner_kind=owner_kind,
            owner_name=owner_name,
            created=t,
            containers=containers,
            revision=rev,
            workload=workload,
            readiness_failing=readiness_failing,
            sandbox_id=hex_id(self.seed, uid, "sandbox"),
        )
        self.pods.append(pod)
        self.breakpoint(t + POD_START_S)
        self.breakpoint(t + POD_READY_S)
        return pod

    def schedule_pending(self, t: float) -> None:
        """The scheduler retries its unschedulable pods when a node changes (uncordoned, Ready again): each that
        now fits is bound, and starts from there."""
        for pod in [p for p in self.pods if p.node is None and p.workload is not None and p.deleting_since is None]:
            workload = pod.workload
            assert workload is not None
            node = self.pick_node(workload, t)
            if node is None:
                continue
            node_state = self.nodes[node]
            pod.node = node
            pod.bound_at = t
            host = (workload.namespace, workload.name) in self.host_network
            pod.ip = node_state.ip if host else self._alloc_ip(node_state)
            self.breakpoint(t)
            self.breakpoint(t + POD_START_S)
            self.breakpoint(t + POD_READY_S)

    def delete_pod(self, pod: PodState) -> None:
        if pod in self.pods:
            self.pods.remove(pod)

    def replace_pod(
        self, old: PodState, t: float, *, broken: bool | None = None, revision: str | None = None
    ) -> PodState:
        """Delete ``old`` and let its controller create the replacement (same node for a DaemonSet)."""
        workload = old.workload
        if workload is None:
            raise ValueError(f"pod {old.namespace}/{old.name} has no controller to recreate it")
        self.delete_pod(old)
        node = old.node if workload.kind == "DaemonSet" else self.pick_node(workload, t)
        is_broken = broken if broken is not None else any(c.image_broken for c in old.containers)
        return self.new_pod(
            workload,
            t,
            node=node,
            slot_name=old.name if workload.kind == "StatefulSet" else None,
            revision=revision or old.revision,
            broken=is_broken,
            readiness_failing=old.readiness_failing,
        )

    def pods_of(self, workload: WorkloadState) -> list[PodState]:
        return sorted((p for p in self.pods if p.workload is workload), key=lambda p: p.name)

    def node_ready(self, pod: PodState, t: float) -> bool:
        node = self.nodes.get(pod.node) if pod.node else None
        return node is not None and node.ready_status(t) == "true"

    def pod_ready(self, pod: PodState, t: float) -> bool:
        return pod.deleting_since is None and pod.ready(self.node_ready(pod, t), t)

    def latency_of(self, workload: WorkloadState) -> LatencyModel | None:
        if workload.latency is not None:
            return workload.latency
        return self._latency_baseline.get((workload.namespace, workload.name))

    def find_workload(self, namespace: str | None, name: str | None) -> WorkloadState:
        for workload in self.workloads:
            if workload.name == name and (namespace is None or workload.namespace == namespace):
                return workload
        declared = sorted(f"{w.namespace}/{w.name}" for w in self.workloads)
        raise ValueError(f"no workload {namespace}/{name} in the simulated cluster; declared: {declared}")

    # ------------------------------------------------------------------ time

    @property
    def now(self) -> float:
        """Virtual seconds since the simulation started."""
        return self._now

    def breakpoint(self, t: float, action: Callable[[], None] | None = None) -> None:
        """Schedule ``action`` (or only a rate change) at virtual time ``t``."""
        if t <= self._now and action is None:
            return
        heapq.heappush(self._events, (max(t, self._now), next(self._sequence), action))

    def next_event_at(self) -> float | None:
        """When the next scheduled state change happens (None: none is scheduled). Until then every counter's
        rate holds; gauges follow their closed forms (constant, or a linear ramp)."""
        return self._events[0][0] if self._events else None

    def advance_to(self, t: float) -> None:
        """Move virtual time to ``t``, integrating every counter and running due state changes in order."""
        if math.isnan(t) or t < self._now:
            raise ValueError(f"time only moves forward: now is {self._now}, asked for {t}")
        while self._events and self._events[0][0] <= t:
            when, _, action = heapq.heappop(self._events)
            self._integrate_to(when)
            if action is not None:
                action()
            self._changed(when)  # a state or a rate changed here
        self._integrate_to(t)

    def _integrate_to(self, t: float) -> None:
        dt = t - self._now
        if dt <= 0.0:
            return
        for key, rate in self._steady_rates().items():
            if rate:
                self.acc[key] = self.acc.get(key, 0.0) + rate * dt
        self._now = t

    def _changed(self, at: float) -> None:
        self._steady_since = at
        self._changes += 1

    def _steady_rates(self) -> dict[AccKey, float]:
        """Every counter's rate since the last change of state (they hold until the next one)."""
        if self._rates_of is None or self._rates_of[0] != self._changes:
            self._rates_of = (self._changes, self._rates(self._now))
        return self._rates_of[1]

    def _rates(self, t: float) -> dict[AccKey, float]:
        rates: dict[AccKey, float] = {}
        if self._integrate_cadvisor:
            cadvisor.add_rates(self, t, rates)
        apps.add_rates(self, t, rates)
        if self._integrate_node_exporter:
            node_exporter.add_rates(self, t, rates)
        return rates

    def count(self, key: AccKey) -> float:
        """A discrete-event counter's value: the whole number of events so far."""
        return float(math.floor(self.acc.get(key, 0.0) + 1e-9))

    # ------------------------------------------------------------------ faults

    def apply_fault(self, scenario: Scenario, level: float | None, **timing: float) -> FaultHandle:
        """Inject ``scenario``'s fault at the current time, at ``level`` (see :mod:`conformance.sim.faults`)."""
        handle = fault_impl.apply(self, next(self._fault_ids), scenario, level, timing)
        self._faults.append(handle)
        self._changed(self._now)
        return handle

    def revert_fault(self, handle: FaultHandle) -> None:
        """Undo a fault now; the cluster heals the way Kubernetes would. Reverting twice does nothing."""
        if handle.reverted_at is not None:
            return
        handle.reverted_at = self._now
        handle.undo()
        self._changed(self._now)

    def active_faults(self) -> list[FaultHandle]:
        return [h for h in self._faults if h.reverted_at is None]

    # ------------------------------------------------------------------ exporters

    def targets(self) -> list[ScrapeTarget]:
        """Every scrape target kube-prometheus-stack (and the workloads' ServiceMonitors) would discover."""
        ns = self.env.monitoring_namespace
        targets: list[ScrapeTarget] = []
        # A pod being deleted leaves its Service's endpoints, so Prometheus stops scraping it.
        ksm_pods = [p for p in self._pods_named(ns, self.ksm_name) if p.deleting_since is None]
        for pod in ksm_pods:
            targets.append(
                ScrapeTarget(
                    id="kube-state-metrics" if pod is ksm_pods[0] else f"ksm-{pod.name}",
                    job="kube-state-metrics",
                    metrics_path="/metrics",
                    honor_labels=True,
                    labels={
                        "job": "kube-state-metrics",
                        "instance": f"{pod.ip}:8080",
                        "namespace": ns,
                        "pod": pod.name,
                        "service": self.ksm_name,
                        "endpoint": "http",
                        "container": "kube-state-metrics",
                    },
                    node=pod.node,
                )
            )
            if self.env.ksm_self_monitor:
                targets.append(
                    ScrapeTarget(
                        id="kube-state-metrics-telemetry" if pod is ksm_pods[0] else f"ksm-telemetry-{pod.name}",
                        job="kube-state-metrics",
                        metrics_path="/metrics",
                        honor_labels=True,
                        labels={
                            "job": "kube-state-metrics",
                            "instance": f"{pod.ip}:{ksm_self.TELEMETRY_PORT}",
                            "namespace": ns,
                            "pod": pod.name,
                            "service": self.ksm_name,
                            "endpoint": ksm_self.ENDPOINT,
                            "container": "kube-state-metrics",
                        },
                        node=pod.node,
                    )
                )
        targets += [t for t in self._fixed().values() if t.job == "kubelet"]
        for pod in self._pods_named(ns, self.node_exporter_name):
            node_state = self.nodes[pod.node] if pod.node else None
            targets.append(
                ScrapeTarget(
                    id=f"node-exporter-{pod.node}",
                    job="node-exporter",
                    metrics_path="/metrics",
                    honor_labels=False,
                    labels={
                        "job": "node-exporter",
                        "instance": f"{node_state.ip if node_state else pod.ip}:9100",
                        "namespace": ns,
                        "pod": pod.name,
                        "service": self.node_exporter_name,
                        "endpoint": "http-metrics",
                        "container": "node-exporter",
                    },
                    node=pod.node,
                )
            )
        # A stopped control-plane component whose mirror pod went has left its Service's endpoints (discovery).
        targets += [t for t in self._fixed().values() if t.job != "kubelet" and control_plane.discovered(self, t)]
        for workload in self.workloads:
            scrape = workload.spec.scrape
            if scrape is None:
                continue
            for pod in self.pods_of(workload):
                if not pod.ip or pod.deleting_since is not None:
                    continue
                targets.append(_app_target(workload, pod, scrape))
        return targets

    def _pods_named(self, namespace: str, workload_name: str) -> list[PodState]:
        return sorted(
            (p for p in self.pods if p.workload and p.namespace == namespace and p.workload.name == workload_name),
            key=lambda p: p.name,
        )

    def _kubelet_targets(self, node: NodeState) -> list[ScrapeTarget]:
        """The node's kubelet endpoints kube-prometheus-stack scrapes (``KUBELET_ENDPOINTS``)."""
        return [
            ScrapeTarget(
                id=f"{prefix}-{node.name}",
                job="kubelet",
                metrics_path=path,
                honor_labels=True,
                labels={
                    "job": "kubelet",
                    "instance": f"{node.ip}:10250",
                    "namespace": "kube-system",
                    "service": f"{self.release}-kubelet",
                    "endpoint": "https-metrics",
                    "node": node.name,
                    "metrics_path": path,
                },
                node=node.name,
                metric_drop=self.cadvisor_drop if prefix == "cadvisor" else "",
            )
            for path, prefix in KUBELET_ENDPOINTS
        ]

    def _fixed(self) -> dict[str, ScrapeTarget]:
        """The targets that never change (nodes are never added or removed): the kubelets' endpoints, the control
        plane, the operator and the reloaders, by id. A scrape looks its target up here before building the list of
        every target, which the pods decide."""
        if self._fixed_targets is None:
            kubelets = [target for node in self.nodes.values() for target in self._kubelet_targets(node)]
            fixed = [*kubelets, *control_plane.targets(self), *operator.targets(self)]
            self._fixed_targets = {target.id: target for target in fixed}
        return self._fixed_targets

    def _target(self, target_id: str) -> ScrapeTarget:
        fixed = self._fixed().get(target_id)
        if fixed is not None:
            return fixed
        for target in self.targets():
            if target.id == target_id:
                return target
        raise KeyError(f"no scrape target {target_id!r}; known: {[t.id for t in self.targets()]}")

    def _expose(self, target: ScrapeTarget, wanted: frozenset[str] | None = None) -> Exposed | None:
        """What the target serves now (None: it does not answer); with ``wanted``, only samples of those names."""
        t = self._now
        out = Exposed(wanted=wanted)
        # An exporter whose families cannot include a wanted name is not asked for its samples at all.
        skip = wanted is not None and not _may_serve(target, wanted)
        if target.job == "kube-state-metrics":
            pod = self._pod_by_name(target.labels["namespace"], target.labels["pod"])
            if pod is None or not pod.container_running(pod.containers[0], t):
                return None
            if skip:
                return out
            if target.labels.get("endpoint") == ksm_self.ENDPOINT:
                ksm_self.emit(self, pod, t, out)
            else:
                ksm.emit(self, t, out)
            return out
        if target.job == "kubelet":
            node = self.nodes[target.node or ""]
            if not node.kubelet_answers(t):
                return None
            if skip:
                return out
            if target.metrics_path == "/metrics/cadvisor":
                cadvisor.emit(self, node, t, out)
            elif target.metrics_path == "/metrics/probes":
                kubelet_health.emit_probes(self, node, t, out)
            else:
                kubelet.emit(self, node, t, out)
            return out
        if target.job == "node-exporter":
            pod = self._pod_by_name(target.labels["namespace"], target.labels["pod"])
            if pod is None or not pod.container_running(pod.containers[0], t):
                return None
            if not skip:
                node_exporter.emit(self, self.nodes[target.node or ""], t, out)
            return out
        if control_plane.serves(target):
            if not control_plane.answers(self, target):
                return None
            if not skip:
                control_plane.emit(self, target, t, out)
            return out
        if operator.serves(target):
            if not skip:
                operator.emit(self, target, t, out)
            return out
        pod = self._pod_by_name(target.labels["namespace"], target.labels["pod"])
        if pod is None or pod.workload is None or pod.workload.scrape_down:
            return None
        if not pod.container_running(pod.containers[0], t):
            return None
        apps.emit(self, pod, t, out)
        return out

    def _pod_by_name(self, namespace: str, name: str) -> PodState | None:
        for pod in self.pods:
            if pod.namespace == namespace and pod.name == name:
                return pod
        return None

    def may_serve(self, target_id: str, names: Collection[str]) -> bool:
        """Whether the target's families can include one of ``names`` (an application's may include any)."""
        return _may_serve(self._target(target_id), names)

    def scrape(self, target_id: str) -> list[Sample] | None:
        """The samples the target serves now, or None when it does not answer (``up`` = 0)."""
        exposed = self._expose(self._target(target_id))
        return None if exposed is None else list(exposed.samples)

    def exposition(self, target_id: str, at: float | None = None) -> str | None:
        """The target's answer in the Prometheus text format 0.0.4, or None when it does not answer.

        ``at``: the answer as it was at that earlier virtual time (a scrape that Prometheus stamped then and the
        twin gets to a moment later); honoured back to the last change of state, else the answer of now.
        """
        target = self._target(target_id)
        if at is None or not self._steady_since <= at < self._now:
            exposed = self._expose(target)
        else:
            with self._rewound(at):
                exposed = self._expose(target)
        return None if exposed is None else render(exposed)

    @contextlib.contextmanager
    def _rewound(self, t: float) -> Iterator[None]:
        """The clock and every counter set back to ``t`` (no change of state in between) for the block.

        The counters grew at the rates of ``t`` ever since (no event changed them), so each is its value now less
        that rate times the time gone by; gauges follow the clock. Restored afterwards, exactly.
        """
        now, rates = self._now, self._steady_rates()
        saved = {key: self.acc[key] for key in rates if key in self.acc}
        for key, rate in rates.items():
            if key in saved:
                self.acc[key] = saved[key] - rate * (now - t)
        self._now = t
        try:
            yield
        finally:
            self._now = now
            self.acc.update(saved)

    def stored_samples(self, names: Collection[str] | None = None) -> dict[SeriesKey, float]:
        """What Prometheus stores after scraping every target now: target labels merged, ``up`` per target.

        With ``honor_labels`` the sample's own label wins (even an empty one, which then disappears); without
        it the target label wins and the sample's clashing value moves to ``exported_<label>``. Empty labels
        are dropped, the ServiceMonitor's metric drops applied, and Prometheus's own per-scrape series added.

        ``names`` keeps only series of those metric names, which is exactly the same result restricted to
        them, computed without building the others (depth 3 samples thousands of steps). Prometheus's
        ``scrape_samples_*`` counts need every sample, so asking for them turns the restriction off.
        """
        wanted = None if names is None else frozenset(names)
        if wanted is not None and any(name.startswith("scrape_samples") for name in wanted):
            wanted = None
        stored: dict[SeriesKey, float] = {}
        for target in self.targets():
            exposed = self._expose(target, wanted)
            up = 0.0 if exposed is None else 1.0
            samples = [] if exposed is None else exposed.samples
            drop = re.compile(target.metric_drop) if target.metric_drop else None
            kept = 0
            for sample in samples:
                if drop is not None and drop.fullmatch(sample.name):
                    continue
                kept += 1
                labels = merge_target_labels(sample.labels, target.labels, honor=target.honor_labels)
                stored[series_key(sample.name, labels)] = sample.value
            report = {
                "up": up,
                "scrape_duration_seconds": 0.01 if exposed is not None else 0.0,
                "scrape_samples_scraped": float(len(samples)),
                "scrape_samples_post_metric_relabeling": float(kept),
                "scrape_series_added": float(kept),
            }
            for name, value in report.items():
                if wanted is None or name in wanted:
                    stored[series_key(name, target.labels)] = value
        return stored


def _exporter_prefixes(target: ScrapeTarget) -> tuple[str, ...] | None:
    """Name prefixes of every family an exporter serves (None: an app, which may serve any name)."""
    if target.job == "kube-state-metrics":
        return ksm_self.PREFIXES if target.labels.get("endpoint") == ksm_self.ENDPOINT else ("kube_",)
    if target.job == "kubelet":
        return {"/metrics/cadvisor": ("container_", "machine_"), "/metrics/probes": ("prober_",)}.get(
            target.metrics_path, ("kubelet_", "kubernetes_build_info")
        )
    if control_plane.serves(target):
        return control_plane.PREFIXES
    if operator.serves(target):
        return operator.PREFIXES
    if target.job == "node-exporter":
        return ("node_",)
    return None


def _may_serve(target: ScrapeTarget, names: Collection[str]) -> bool:
    prefixes = _exporter_prefixes(target)
    return prefixes is None or any(name.startswith(prefixes) for name in names)


def merge_target_labels(sample: dict[str, str], target: dict[str, str] | Any, *, honor: bool) -> dict[str, str]:
    """Prometheus's merge of a scraped sample's labels with its target's labels (scrape.mutateSampleLabels)."""
    merged = dict(sample)
    if honor:
        for name, value in target.items():
            if name not in sample:
                merged[name] = value
    else:
        conflicts = [(name, sample[name]) for name in target if sample.get(name, "") != ""]
        for name, value in target.items():
            merged[name] = value
        for name, value in conflicts:
            exported = name
            while True:
                exported = "exported_" + exported
                if exported not in sample and exported not in target:
                    merged[exported] = value
                    break
    return {k: v for k, v in merged.items() if v != ""}


def _app_target(workload: WorkloadState, pod: PodState, scrape: ScrapeSpec) -> ScrapeTarget:
    return ScrapeTarget(
        id=f"pod-{pod.namespace}-{pod.name}",
        job=scrape.job,
        metrics_path=scrape.path,
        honor_labels=False,
        labels={
            "job": scrape.job,
            "instance": f"{pod.ip}:{scrape.port}",
            "namespace": pod.namespace,
            "pod": pod.name,
            "service": workload.name,
            "endpoint": "metrics",
            "container": workload.spec.containers[0].name,
        },
        node=pod.node,
    )


def _broken_image(image: str) -> str:
    """The image of a revision that cannot start: same repository, a tag that does not exist."""
    slash = image.rfind("/")
    colon = image.rfind(":")
    repository = image[:colon] if colon > slash else image
    return f"{repository}:conformance-does-not-exist"
