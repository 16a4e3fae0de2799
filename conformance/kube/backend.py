"""The Kubernetes backends (``kind`` and ``cluster``), both a :class:`~conformance.backends.base.LiveBackend`.

``prepare()`` does, in this order, and stops at the first problem:

1. (cluster) the safety rules (:mod:`conformance.kube.safety`): refused faults stop the run before any API call;
2. (kind) tools, cluster create/reuse, kubeconfig; (cluster) kubeconfig/context;
3. (cluster) the RBAC preflight: every missing permission listed at once, before any write;
4. leftovers of a killed earlier run restored or deleted;
5. (kind) storage, Helm install; (both) stand-ins, rules, capture webhook, and waits for them to be ready.

``run()`` applies the scenarios in waves (scenarios on different objects together; two on the same object one
after the other), each wave through :func:`conformance.kube.inject.inject`, so every revert is registered before
its fault and runs on any way out; notifications are read from the capture webhook through the API server.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conformance.backends.base import Notification, Observation, ScenarioRun, StatusCallback
from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import KubeApiError, KubeClient, Obj
from conformance.kube.exec import PodExecutor, StreamExecutor
from conformance.kube.faults import FaultContext, FaultLookup, Injector, NodeAgent, Timeouts
from conformance.kube.inject import inject
from conformance.kube.kind import DockerNodeAgent, KindCluster, find_kind_tools
from conformance.kube.leftovers import clean_leftovers, stale_suite_namespaces
from conformance.kube.planning import FaultStep, RunPlan, plan_run
from conformance.kube.preflight import preflight
from conformance.kube.safety import check_namespace, check_safety
from conformance.kube.stack import (
    CAPTURE_NAME,
    CAPTURE_PORT,
    RELEASE,
    alertmanager_configs,
    helm_install_argv,
    prometheus_rules,
    stack_values,
)
from conformance.kube.standins import capture_manifests, local_storage_class, local_volumes, render
from conformance.model.profile import Profile
from conformance.options import Options
from conformance.packs.model import Pack
from conformance.tools import CommandRunner, run_command
from conformance.yamlio import dump


def wave_key(step: FaultStep) -> str:
    injector = step.injector
    if injector is None:
        return step.run_id
    target = injector.target
    return target.node or f"{target.namespace}/{target.workload.name if target.workload else target.describe()}"


def waves(steps: Sequence[FaultStep]) -> list[list[FaultStep]]:
    """Group steps so no two in a wave act on the same object (node, workload, claim, job)."""
    result: list[list[FaultStep]] = []
    for step in steps:
        key = wave_key(step)
        for wave in result:
            if all(wave_key(other) != key for other in wave):
                wave.append(step)
                break
        else:
            result.append([step])
    return result


class KubeBackend:
    """``--backend kind`` or ``--backend cluster``. Build with :meth:`for_options`, then :meth:`prepare`."""

    time_scale = 1.0

    def __init__(
        self, options: Options, profile: Profile, pack: Pack, registry: FaultLookup, *,
        runner: CommandRunner = run_command,
        client_factory: Callable[[Path | None, str | None], KubeClient] | None = None,
        executor_factory: Callable[[KubeClient], PodExecutor] | None = None, timeouts: Timeouts | None = None,
        run_id: str | None = None, workdir: Path | None = None,
    ) -> None:
        self.options, self.profile, self.pack, self.registry = options, profile, pack, registry
        self.name = options.backend
        self.runner = runner
        self.client_factory = client_factory or KubeClient.from_kubeconfig
        self.executor_factory = executor_factory or (lambda client: StreamExecutor(client.api_client))
        self.timeouts = timeouts or Timeouts()
        self.run_id = run_id or lb.new_run_id()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="alert-conformance-kube-"))
        self.plan: RunPlan = plan_run(options, profile, pack, registry)
        self.kind: KindCluster | None = None
        self.ctx: FaultContext | None = None
        self.failed = False
        self.closed = False
        self.log: list[str] = []

    # -- preparation ----------------------------------------------------------------------------------------

    def prepare(self, status: StatusCallback = lambda _m: None) -> FaultContext:
        """Everything before the first fault (see the module docstring). Returns the fault context."""
        options = self.options
        if self.name == "cluster":
            check_safety(options, self.plan.placement, self.plan.faults)  # before any API call
        agent: NodeAgent | None = None
        kubeconfig: Path | None
        context: str | None
        if self.name == "kind":
            tools = find_kind_tools(options)  # one ToolNotFoundError line when one is missing
            self.kind = KindCluster(options.cluster_name, tools["kind"], tools["docker"], self.runner)
            status(f"kind cluster {options.cluster_name}: {self.kind.ensure()}")
            kubeconfig, context = self.kind.write_kubeconfig(self.workdir / "kubeconfig"), None
            agent = DockerNodeAgent(tools["docker"], self.runner)
        else:
            kubeconfig, context = options.kubeconfig, options.context
        client = self.client_factory(kubeconfig, context)
        ctx = FaultContext(client, self.executor_factory(client), self.run_id, self.plan.placement.backend,
                           node_agent=agent, timeouts=self.timeouts, status=status)
        self.ctx = ctx
        if self.name == "cluster":
            nodes = sorted(n["metadata"]["name"] for n in client.list(r.NODES)
                           if "node-role.kubernetes.io/control-plane" not in n["metadata"].get("labels", {}))
            self.plan = plan_run(options, self.profile, self.pack, self.registry, cluster_nodes=nodes)
            check_safety(options, self.plan.placement, self.plan.faults)
            preflight(client, [p for f in self.plan.faults for p in f.injector.permissions()]
                      + self._own_permissions())
        namespaces = sorted(set(self.plan.placement.namespaces.values()))
        for line in clean_leftovers(ctx, namespaces, self.registry.get):
            self.log.append(line)
        if self.name == "cluster":
            for stale in stale_suite_namespaces(ctx):
                client.delete(r.NAMESPACES, stale)
                client.wait_gone(r.NAMESPACES, stale, timeout_s=self.timeouts.delete_s)
        if self.name == "kind":
            self._install_kind_stack(ctx, status)
        self._deploy(ctx, status)
        return ctx

    def _own_permissions(self) -> list[Any]:
        from conformance.kube.preflight import cluster_permissions, namespace_permissions

        perms = cluster_permissions()
        for namespace in sorted(self.plan.placement.standin_namespaces):
            perms.extend(namespace_permissions(namespace))
        return perms

    def _apply(self, client: KubeClient, obj: Obj) -> None:
        """Create, or patch an existing object into the desired state (stand-ins survive a reused cluster)."""
        resource = r.by_kind(obj["kind"])
        meta = obj["metadata"]
        check_namespace(meta.get("namespace") if resource.namespaced else None)
        body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        try:
            client.create(resource, body, meta.get("namespace"))
        except KubeApiError as error:
            if error.status != 409:
                raise
            client.patch(resource, meta["name"], body, meta.get("namespace"))

    def _install_kind_stack(self, ctx: FaultContext, status: StatusCallback) -> None:
        assert self.kind is not None
        env = self.profile.environment
        monitoring = env.monitoring_namespace
        helm = find_kind_tools(self.options)["helm"]
        values = self.workdir / "values.yaml"
        values.write_text(dump(stack_values(self.profile, self.pack, monitoring)), encoding="utf-8")
        status(f"installing kube-prometheus-stack into {monitoring}")
        result = self.runner(helm_install_argv(helm, monitoring, values), timeout=900.0)
        if result.returncode != 0:
            raise BackendError(f"helm install of kube-prometheus-stack failed: {result.stderr.strip()[:500]}")
        if env.volume_claims:
            agent = ctx.node_agent
            assert isinstance(agent, DockerNodeAgent)
            worker = f"{self.options.cluster_name}-worker"
            self._apply(ctx.client, local_storage_class(self.run_id))
            for path, size, pv in local_volumes(self.plan.placement, worker, self.run_id):
                agent.mount_tmpfs(worker, path, size)
                self._apply(ctx.client, pv)

    def _deploy(self, ctx: FaultContext, status: StatusCallback) -> None:
        client, env = ctx.client, self.profile.environment
        kind = self.name == "kind"
        storage = "alert-conformance-local" if kind else None
        for obj in render(self.plan.placement, self.run_id, RELEASE, storage_class=storage):
            self._apply(client, obj)
        capture_ns = env.monitoring_namespace if kind else sorted(self.plan.placement.standin_namespaces)[0]
        self.capture_namespace = capture_ns
        for obj in capture_manifests(capture_ns, self.run_id):
            self._apply(client, obj)
        if kind or self.options.alert_pack:
            rules_ns = env.monitoring_namespace if kind else capture_ns
            for obj in prometheus_rules(self.pack, rules_ns, self.run_id, {"release": RELEASE}):
                self._apply(client, obj)
        if kind:
            for obj in alertmanager_configs(self.pack, self.run_id, capture_ns):
                self._apply(client, obj)
        else:
            from conformance.kube.standins import capture_route

            selector = self._alertmanager_config_selector(client)
            for namespace in sorted(set(self.plan.placement.namespaces.values())):
                self._apply(client, capture_route(namespace, self.run_id, selector, capture_ns))
        status("waiting for the stand-ins and the capture webhook to be ready")
        client.wait_workload_ready(r.DEPLOYMENTS, capture_ns, CAPTURE_NAME, timeout_s=self.timeouts.rollout_s)
        for workload in env.workloads:
            namespace = self.plan.placement.namespace(workload.namespace)
            if namespace in self.plan.placement.standin_namespaces:
                client.wait_workload_ready(r.WORKLOADS[workload.kind], namespace, workload.name,
                                           timeout_s=self.timeouts.rollout_s)

    def _alertmanager_config_selector(self, client: KubeClient) -> dict[str, str]:
        """The labels the cluster's Alertmanager selects AlertmanagerConfigs by (first Alertmanager found)."""
        for alertmanager in client.list(r.ALERTMANAGERS):
            selector = alertmanager.get("spec", {}).get("alertmanagerConfigSelector") or {}
            return dict(selector.get("matchLabels") or {})
        raise BackendError("no monitoring.coreos.com/v1 Alertmanager found in the cluster; pass --alertmanager-url "
                           "and add the capture receiver yourself, or install the Prometheus Operator")

    # -- the run --------------------------------------------------------------------------------------------

    def captured(self, client: KubeClient, since: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Notifications the in-cluster capture webhook holds, through the API server's service proxy."""
        raw = client.proxy("GET", "services", self.capture_namespace, CAPTURE_NAME, CAPTURE_PORT,
                           f"captured?since={since}")
        data = json.loads(raw)
        return list(data.get("entries", [])), int(data.get("next", since))

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> list[Observation]:
        ctx = self.ctx or self.prepare(status)
        by_id = {run.id: run for run in runs}
        chosen = [(run.alert, run.scenario, run.level) for run in runs]
        steps = plan_run(self.options, self.profile, self.pack, self.registry, chosen).steps
        observations: dict[str, Observation] = {}
        for step in steps:
            if step.skip is not None:
                observations[step.run_id] = Observation(step.run_id, fault_applied=False, skipped=step.skip)
        for wave in waves([s for s in steps if s.skip is None and s.injector is not None]):
            injectors: list[Injector] = [s.injector for s in wave if s.injector is not None]
            started = time.monotonic()
            _, cursor = self.captured(ctx.client)
            budget = max((by_id[s.run_id].prediction.fire_after_s or 0.0) for s in wave if s.run_id in by_id) + 120.0

            def hold(wave: list[FaultStep] = wave, started: float = started, cursor: int = cursor,
                     budget: float = budget) -> list[dict[str, Any]]:
                seen: list[dict[str, Any]] = []

                def all_notified() -> bool | None:
                    entries, _ = self.captured(ctx.client, cursor)
                    seen[:] = entries
                    names = {a.get("labels", {}).get("alertname") for e in entries
                             for a in e["payload"].get("alerts", [])}
                    return True if all(by_id[s.run_id].alert.name in names for s in wave if s.run_id in by_id) \
                        else None

                try:
                    ctx.client.wait_for("notifications of this wave", all_notified, timeout_s=budget, interval_s=5.0)
                except BackendError as error:
                    status(str(error))
                return seen

            try:
                entries = inject(ctx, injectors, hold)
            except BaseException:
                self.failed = True
                raise
            for step in wave:
                observations[step.run_id] = self._observe(step, entries, started, by_id)
        return [observations.get(run.id) or Observation(run.id, fault_applied=False, skipped="not planned")
                for run in runs]

    def _observe(self, step: FaultStep, entries: list[dict[str, Any]], started: float,
                 by_id: dict[str, ScenarioRun]) -> Observation:
        observation = Observation(step.run_id, fault_applied=True)
        name = step.alert.name
        wall_start = time.time() - (time.monotonic() - started)
        for entry in entries:
            alerts = [a for a in entry["payload"].get("alerts", []) if a.get("labels", {}).get("alertname") == name]
            if not alerts:
                continue
            at = float(entry["at"]) - wall_start
            receiver = str(entry["payload"].get("receiver", ""))
            status_text = str(entry["payload"].get("status", ""))
            observation.notifications.append(Notification(at, receiver, status_text, entry["payload"], alerts))
            if status_text == "firing" and observation.notified_s is None:
                observation.notified_s = at
                observation.timeline.append((at, f"notified {receiver}"))
            if receiver not in observation.receivers:
                observation.receivers.append(receiver)
        if observation.notified_s is None:
            self.failed = True
        return observation

    def close(self) -> None:
        """Apply ``--keep-cluster`` (kind). Reverts already ran with each wave. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self.kind is not None:
            self.log.append(self.kind.finish(self.options.keep_cluster, failed=self.failed))
