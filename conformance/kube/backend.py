"""The Kubernetes backends (``kind`` and ``cluster``), both a :class:`~conformance.observe.backend.LiveBackend`.

``prepare()`` does, in this order, and stops at the first problem:

1. (cluster) the safety rules (:mod:`conformance.kube.safety`): refused faults stop the run before any API call;
2. (kind) tools, cluster create/reuse, kubeconfig; (cluster) kubeconfig/context;
3. (cluster) the RBAC preflight: every missing permission listed at once, before any write;
4. leftovers of a killed earlier run restored or deleted;
5. (kind) storage, Helm install; (both) stand-ins, rules, capture webhook, and waits for them to be ready.

``run()`` follows the plan made once (for a cluster, completed in ``prepare()`` with its real nodes): its scenarios
in waves (scenarios on different objects together; two on the same object one after the other), each wave through
the shared engine (:meth:`conformance.observe.engine.Engine.run_wave`), exactly as the twin runs its one wave:

* a healthy period (one pipeline cycle; ``healthy_s``), watched: anything documented pending, firing or notified
  then is recorded at negative times and fails the run in the verdict;
* faults applied through :class:`conformance.kube.driver.KubeFaults`, each run's revert counting as registered
  before its fault; Prometheus ``/api/v1/alerts``, Alertmanager ``/api/v2/alerts`` and the capture webhook polled
  (``poll_s``) through :mod:`conformance.observe.watch`, which attributes every alert instance by the labels depth 3
  predicted (in the cluster's names, :func:`conformance.kube.driver.translate_labels`); each run reverted once
  every receiver it expects was notified, or when its last expected notification is overdue;
* after the revert, resolved notifications awaited until each is overdue.

The sources are ``--prometheus-url``/``--alertmanager-url`` or the operator's services, through the API server's
proxy (:mod:`conformance.kube.sources`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from conformance.errors import BackendError, ConformanceError, RevertError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import KubeApiError, KubeClient, Obj
from conformance.kube.driver import KubeFaults, translate_labels
from conformance.kube.estimate import healthy_period_s
from conformance.kube.exec import PodExecutor, StreamExecutor
from conformance.kube.faults import FaultContext, FaultLookup, NodeAgent, Timeouts
from conformance.kube.kind import DockerNodeAgent, KindCluster, find_kind_tools
from conformance.kube.leftovers import clean_leftovers, stale_suite_namespaces
from conformance.kube.planning import RunPlan, plan_run
from conformance.kube.preflight import preflight
from conformance.kube.replica_loss import ReplicaKiller
from conformance.kube.safety import check_namespace, check_safety
from conformance.kube.sources import ClusterSources, find_sources, operator_object, rule_selection
from conformance.kube.stack import (
    CAPTURE_NAME,
    RELEASE,
    alertmanager_configs,
    helm_install_argv,
    prometheus_rules,
    stack_values,
)
from conformance.kube.standins import capture_manifests, local_storage_class, local_volumes, render
from conformance.model.profile import Profile
from conformance.model.run import ScenarioRun, StatusCallback
from conformance.observe.backend import LiveOutcome, new_watches, noise_of, results_of
from conformance.observe.engine import Engine, HealthyPeriod, Lane
from conformance.observe.watch import Watcher
from conformance.options import Options
from conformance.packs.model import Pack
from conformance.tools import CommandRunner, run_command
from conformance.yamlio import dump


class KubeBackend:
    """``--backend kind`` or ``--backend cluster``. Build with :meth:`for_options`, then :meth:`prepare`."""

    time_scale = 1.0

    def __init__(
        self,
        options: Options,
        profile: Profile,
        pack: Pack,
        registry: FaultLookup,
        *,
        runner: CommandRunner = run_command,
        client_factory: Callable[[Path | None, str | None], KubeClient] | None = None,
        executor_factory: Callable[[KubeClient], PodExecutor] | None = None,
        timeouts: Timeouts | None = None,
        run_id: str | None = None,
        workdir: Path | None = None,
        sources: ClusterSources | None = None,
        poll_s: float = 5.0,
        healthy_s: float | None = None,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options, self.profile, self.pack, self.registry = options, profile, pack, registry
        self.name = options.backend
        self.runner = runner
        self.client_factory = client_factory or KubeClient.from_kubeconfig
        self.executor_factory = executor_factory or (lambda client: StreamExecutor(client.api_client))
        self.timeouts = timeouts or Timeouts()
        self.run_id = run_id or lb.new_run_id()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="alert-conformance-kube-"))
        #: kind runs the high-availability scenarios (conformance.replicas.ha_runs): it installed the stack, so
        #: its replicas are the suite's to lose; an existing cluster's are not.
        self.loses_replicas = self.name == "kind"
        self.plan: RunPlan = plan_run(options, profile, pack, registry)
        self.kind: KindCluster | None = None
        self.ctx: FaultContext | None = None
        self.failed = False
        self.closed = False
        self.log: list[str] = []
        self.capture_namespace = (
            profile.environment.monitoring_namespace
            if self.name == "kind"
            else sorted(self.plan.placement.standin_namespaces or {profile.environment.monitoring_namespace})[0]
        )
        self._sources = sources
        # Polls and waits are injectable so tests run in seconds. The healthy period before each wave is one
        # pipeline cycle (two scrapes, two evaluations, a group_wait) at the stack's intervals.
        self.poll_s = poll_s
        self.healthy_s = healthy_s if healthy_s is not None else healthy_period_s(profile)
        self.wall_clock = wall_clock
        self.sleep = sleep

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
            layout = self.plan.placement.layout
            assert layout is not None  # a kind plan always carries its cluster layout
            status(f"kind cluster {options.cluster_name}: {self.kind.ensure(layout.write_config(self.workdir))}")
            kubeconfig, context = self.kind.write_kubeconfig(self.workdir / "kubeconfig"), None
            agent = DockerNodeAgent(tools["docker"], self.runner)
        else:
            kubeconfig, context = options.kubeconfig, options.context
        client = self.client_factory(kubeconfig, context)
        if self.kind is not None and self.plan.placement.layout is not None:
            self.plan.placement.layout.check(client.list(r.NODES))  # a reused cluster of another layout: one line
        ctx = FaultContext(
            client,
            self.executor_factory(client),
            self.run_id,
            self.plan.placement.backend,
            node_agent=agent,
            timeouts=self.timeouts,
            status=status,
        )
        self.ctx = ctx
        if self.name == "cluster":
            nodes = sorted(
                n["metadata"]["name"]
                for n in client.list(r.NODES)
                if "node-role.kubernetes.io/control-plane" not in n["metadata"].get("labels", {})
            )
            self.plan = plan_run(options, self.profile, self.pack, self.registry, cluster_nodes=nodes)
            check_safety(options, self.plan.placement, self.plan.faults)
            preflight(client, [p for f in self.plan.faults for p in f.injector.permissions()] + self._own_permissions())
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
        layout = self.plan.placement.layout
        components = layout.components if layout is not None else ()
        values.write_text(dump(stack_values(self.profile, self.pack, monitoring, components)), encoding="utf-8")
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
        for obj in capture_manifests(capture_ns, self.run_id, placement=self.plan.placement if kind else None):
            self._apply(client, obj)
        if kind or self.options.alert_pack:
            rules_ns = env.monitoring_namespace if kind else capture_ns
            selector = {"release": RELEASE} if kind else self._rule_selector(client, rules_ns)
            for obj in prometheus_rules(self.pack, rules_ns, self.run_id, selector):
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
                client.wait_workload_ready(
                    r.WORKLOADS[workload.kind], namespace, workload.name, timeout_s=self.timeouts.rollout_s
                )

    def _rule_selector(self, client: KubeClient, rules_namespace: str) -> dict[str, str]:
        """Existing cluster: the labels its Prometheus selects PrometheusRules by (``spec.ruleSelector``); the
        labels of its ``spec.ruleNamespaceSelector`` go onto the suite's own rules namespace."""
        prometheus = operator_object(client, r.PROMETHEUSES, None)
        if prometheus is None:
            raise BackendError(
                "no monitoring.coreos.com/v1 Prometheus found in the cluster to load the pack's rules "
                "into; run without --alert-pack to certify the rules the cluster already has"
            )
        rule_labels, namespace_labels = rule_selection(prometheus)
        meta = prometheus["metadata"]
        self.log.append(
            f"PrometheusRules labelled {rule_labels or '(nothing: the selector is empty)'}, as "
            f"Prometheus {meta.get('namespace')}/{meta['name']} selects them"
        )
        if namespace_labels:
            check_namespace(rules_namespace)
            client.patch(r.NAMESPACES, rules_namespace, {"metadata": {"labels": namespace_labels}})
        return rule_labels

    def _alertmanager_config_selector(self, client: KubeClient) -> dict[str, str]:
        """The labels the cluster's Alertmanager selects AlertmanagerConfigs by (first Alertmanager found)."""
        for alertmanager in client.list(r.ALERTMANAGERS):
            selector = alertmanager.get("spec", {}).get("alertmanagerConfigSelector") or {}
            return dict(selector.get("matchLabels") or {})
        raise BackendError(
            "no monitoring.coreos.com/v1 Alertmanager found in the cluster; pass --alertmanager-url "
            "and add the capture receiver yourself, or install the Prometheus Operator"
        )

    # -- the run --------------------------------------------------------------------------------------------

    def sources(self, client: KubeClient) -> ClusterSources:
        """Prometheus, Alertmanager (``--prometheus-url``/``--alertmanager-url`` or found) and the capture webhook."""
        if self._sources is None:
            monitoring = self.profile.environment.monitoring_namespace if self.name == "kind" else None
            self._sources = find_sources(
                client,
                monitoring_namespace=monitoring,
                capture_namespace=self.capture_namespace,
                prometheus_url=self.options.prometheus_url,
                alertmanager_url=self.options.alertmanager_url,
            )
            self.log.extend(self._sources.describe())
        return self._sources

    def run(self, runs: Sequence[ScenarioRun], *, status: StatusCallback) -> LiveOutcome:
        """Every scenario run of the plan, wave by wave, through the shared engine; one result per run, in order.

        A wave whose faults cannot be applied records the error on its runs and the run goes on; a revert that
        failed, ``KeyboardInterrupt`` and anything unexpected end the run (after that wave's reverts ran).
        """
        started = self.wall_clock()
        ctx = self.ctx or self.prepare(status)
        placement = self.plan.placement  # the plan made once (for a cluster: completed with its real nodes)
        # kind deploys the replicas the pack and profile set (stack_values) and, given runs that lose them (the
        # session's ha_runs), loses them as the plan says: the budget then has the peer timeout, and each run is
        # watched a group_interval past its last notification for a duplicate (minutes at scale 1: the price of
        # counting). An existing cluster's replicas are not lost, nor waited on; notifications are counted on
        # every backend all the same.
        watches = new_watches(
            runs,
            self.profile,
            self.pack,
            self.time_scale,
            lambda labels: translate_labels(labels, placement),
            high_availability=self.loses_replicas and any(run.losses for run in runs),
        )
        by_id = {watch.run.id: watch for watch in watches}
        steps = {step.run_id: step for step in self.plan.steps}
        for run in runs:
            step = steps.get(run.id)
            if step is None:
                by_id[run.id].observation.error = "the run's plan has no step for this scenario"
            elif step.skip is not None:
                by_id[run.id].observation.skipped = step.skip
        # The plan's waves, made once: only the steps of the runs asked for (a test may run a few).
        plan_waves = [[step for step in wave if step.run_id in by_id] for wave in self.plan.waves]
        plan_waves = [wave for wave in plan_waves if wave]
        runnable = [step for wave in plan_waves for step in wave]
        watcher = Watcher(self.sources(ctx.client), self.profile, self.pack, self.wall_clock)
        watcher.skip_captured()
        engine = Engine(self.name, self.wall_clock, self.sleep, self.poll_s, status)
        killer = ReplicaKiller(self.profile.environment.monitoring_namespace) if self.loses_replicas else None
        driver = KubeFaults(ctx, {step.run_id: step.injector for step in runnable if step.injector is not None}, killer)
        try:
            for number, wave in enumerate(plan_waves, start=1):
                lane = Lane(self.name, watcher, [by_id[step.run_id] for step in wave])
                try:
                    engine.run_wave(f"wave {number}", [lane], driver, HealthyPeriod(judged_s=self.healthy_s))
                except RevertError:
                    raise
                except ConformanceError as error:
                    self.failed = True
                    for watch in lane.watches:
                        watch.observation.error = watch.observation.error or str(error)
                finally:
                    self._restore_replicas(driver)
        except BaseException:
            self.failed = True
            raise
        results = results_of(runs, watches)
        if any(r.observation.notified_s is None and not r.observation.skipped for r in results):
            self.failed = True
        return LiveOutcome(
            backend=self.name,
            time_scale=self.time_scale,
            results=results,
            wall_s=self.wall_clock() - started,
            logs={f"{self.name} backend": "\n".join(self.log)} if self.log else {},
            other_notifications=list(watcher.other_notifications),
            noise=noise_of([watcher], self.profile),
        )

    def _restore_replicas(self, driver: KubeFaults) -> None:
        """The replicas lost in a wave are back before the next one; one that is not stops the run."""
        try:
            driver.restore_replicas()
        except Exception as error:  # a wait that timed out, an API error: the next wave must not run
            self.failed = True
            raise RevertError(f"a replica of the stack lost in the wave did not come back: {error}") from error

    def close(self) -> None:
        """Apply ``--keep-cluster`` (kind). Reverts already ran with each wave. Safe to call twice."""
        if self.closed:
            return
        self.closed = True
        if self.kind is not None:
            self.log.append(self.kind.finish(self.options.keep_cluster, failed=self.failed))
