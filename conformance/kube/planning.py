"""What a Kubernetes run will do, computed without touching anything: the plan ``--plan`` prints and the run
follows. Needs no cluster and no binaries.

The plan is made once per run and carries everything the run decides up front: the placement (on kind, the
cluster's layout from the profile, :mod:`conformance.kube.layout`), one step per scenario (its fault beside its
revert, or why it is skipped) and the waves the runnable steps go in (:func:`waves`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from conformance.kube.estimate import RunEstimate, seconds
from conformance.kube.faults import FaultLookup, Injector
from conformance.kube.placement import PROTECTED_NAMESPACES, Placement
from conformance.kube.preflight import cluster_permissions, namespace_permissions, unique
from conformance.kube.replica_loss import describe_loss
from conformance.kube.safety import PlannedFault, refusals
from conformance.kube.stack import CHART, CHART_REPO, CHART_VERSION, RELEASE, STACK_INTERVAL_S
from conformance.kube.standins import LOCAL_STORAGE_CLASS, render
from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.model.profile import Profile
from conformance.model.scenario import FAULT_KINDS, Scenario
from conformance.options import Options
from conformance.packs.model import Pack
from conformance.replicas import replica_losses, shares_runs
from conformance.static.cases import boundary_levels

PLAN_RUN_ID = "<run-id>"
#: The object of a fault on every node: it shares a wave with no other step.
EVERY_NODE = "node/*"
#: The object of a fault on the control plane: with the scheduler or the controller manager stopped no pod is
#: scheduled and no controller acts, which would change every other scenario of its wave.
CONTROL_PLANE = "control-plane"
#: Objects whose step has a wave to itself.
EXCLUSIVE = frozenset({EVERY_NODE, CONTROL_PLANE})


@dataclass(frozen=True)
class FaultStep:
    """One alert scenario: its fault beside its revert, or why it is skipped."""

    run_id: str
    alert: AlertContract
    scenario: Scenario
    level: float | None
    injector: Injector | None
    skip: str | None = None


@dataclass
class RunPlan:
    backend: str
    placement: Placement
    cluster: list[str] = field(default_factory=list)
    installs: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    steps: list[FaultStep] = field(default_factory=list)
    #: the runnable steps grouped as they are applied: one wave after another, a wave's faults together
    waves: list[list[FaultStep]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    #: High availability (kind): each replica loss as (what is done, its revert)
    losses: list[tuple[str, str]] = field(default_factory=list)

    @property
    def faults(self) -> list[PlannedFault]:
        return [PlannedFault(s.run_id, s.injector) for s in self.steps if s.injector is not None and s.skip is None]


def firing_level(alert: AlertContract) -> float | None:
    return boundary_levels(alert.threshold)[0] if alert.threshold is not None else None


def fault_steps(
    runs: Sequence[tuple[AlertContract, Scenario, float | None]], placement: Placement, registry: FaultLookup
) -> list[FaultStep]:
    steps = []
    for alert, scenario, level in runs:
        run_id = f"{alert.key}:{scenario.id}"
        if not alert.live:
            steps.append(FaultStep(run_id, alert, scenario, level, None, alert.live_skip_reason or "not live"))
            continue
        target = placement.resolve(scenario)
        injector_cls = registry.get(scenario.fault)
        injector = injector_cls.build(scenario, target, level)
        skip = injector_cls.skip_reason(placement.backend, target) or injector.params_skip_reason(placement.backend)
        if target.namespace in PROTECTED_NAMESPACES:
            skip = "targets kube-system, which is never touched"
        skip = skip or _gathered_skip(scenario, placement)
        steps.append(FaultStep(run_id, alert, scenario, level, injector, skip))
    return steps


def _gathered_skip(scenario: Scenario, placement: Placement) -> str | None:
    """On kind every stand-in runs on the workloads worker, whatever node_selector the profile gives it: a node
    fault on a declared node that workloads are gathered on (seed 004's Run:ai system workers) would lose none of
    them there, so it is skipped with the reason rather than proven empty."""
    node = scenario.target.node
    if placement.backend != "kind" or node is None or FAULT_KINDS[scenario.fault].target != "node":
        return None
    spec = next((n for n in placement.environment.nodes if n.name == node), None)
    labels = dict(spec.labels) if spec is not None else {}
    gathered = [
        w.name
        for w in placement.environment.workloads
        if w.node_selector and all(labels.get(k) == v for k, v in w.node_selector.items())
    ]
    if not gathered:
        return None
    return (
        f"{node} gathers workloads by node_selector ({', '.join(gathered[:3])}{', ...' if len(gathered) > 3 else ''}); "
        "on kind the stand-ins all run on the workloads worker, so losing it would lose none of them"
    )


def runnable(steps: Sequence[FaultStep]) -> list[FaultStep]:
    """The steps a run applies: not skipped, with an injector."""
    return [s for s in steps if s.skip is None and s.injector is not None]


def step_objects(step: FaultStep) -> frozenset[str]:
    """The cluster objects a step acts on: its node, its workload, its claim and the workload mounting it, its
    job, its quota, or the one object a fault without a target changes (:attr:`FaultKind.acts_on`). A node-loss
    fault's object is its node, so two node-loss faults on one worker share an object."""
    injector = step.injector
    if injector is None:
        return frozenset({f"run/{step.run_id}"})
    if step.scenario.kind.acts_on is not None:
        return frozenset({step.scenario.kind.acts_on})
    target = injector.target
    if target.every_node:
        return frozenset({EVERY_NODE})
    if target.component is not None:
        return frozenset({CONTROL_PLANE})
    objects: set[str] = set()
    if target.node is not None and target.workload is None:
        objects.add(f"node/{target.node}")
    if target.workload is not None:
        objects.add(f"workload/{target.namespace}/{target.workload.name}")
    if target.claim is not None:
        objects.add(f"claim/{target.namespace}/{target.claim.name}")
        if target.claim.mounted_by:  # the fault writes through that workload's pod
            objects.add(f"workload/{target.namespace}/{target.claim.mounted_by}")
    if target.job is not None:
        objects.add(f"job/{target.namespace}/{target.job.name}")
    if target.quota is not None:
        objects.add(f"quota/{target.namespace}/{target.quota.name}")
    return frozenset(objects or {f"run/{step.run_id}"})


def waves(steps: Sequence[FaultStep]) -> list[list[FaultStep]]:
    """Group ``steps`` in order, each into the first wave it fits: no two steps of a wave act on the same object
    (:func:`step_objects`), hence no two node-loss faults share a worker in a wave. On kind nothing else of the
    suite's runs on a node-fault worker (:mod:`conformance.kube.layout`), so a stopped kubelet there takes no
    other scenario's object with it. A fault on every node (kubelets-down) or on the control plane
    (control-plane-down) has a wave to itself: every other step's objects are on some node, and need the
    scheduler and the controllers."""
    result: list[list[FaultStep]] = []

    def fits(mine: frozenset[str], wave: list[FaultStep]) -> bool:
        theirs = [step_objects(other) for other in wave]
        if mine & EXCLUSIVE or any(objects & EXCLUSIVE for objects in theirs):
            return False
        return all(not mine & objects for objects in theirs)

    for step in steps:
        mine = step_objects(step)
        wave = next((w for w in result if fits(mine, w)), None)
        if wave is None:
            result.append([step])
        else:
            wave.append(step)
    return result


def kind_placement(profile: Profile, cluster_name: str, registry: FaultLookup) -> Placement:
    """The kind placement for the whole profile, whatever subset a run chooses, so the cluster created in
    ``prepare()`` and the plan of ``run()`` agree: a worker of its own for each declared node that a node fault
    which really runs on kind targets (a skipped one needs none)."""
    env = profile.environment
    every = [(alert, scenario, firing_level(alert)) for alert in profile.alerts for scenario in alert.scenarios]
    targeted = _node_targets(scenario for _, scenario, _ in every)
    # skip reasons do not depend on which worker plays a node, so a provisional layout answers them
    provisional = Placement.for_kind(env, cluster_name, fault_nodes=targeted)
    steps = runnable(fault_steps(every, provisional, registry))
    running = _node_targets(step.scenario for step in steps)
    components = {step.scenario.target.component for step in steps if step.scenario.target.component}
    return Placement.for_kind(env, cluster_name, fault_nodes=running, components=components)


def _node_targets(scenarios: Iterable[Scenario]) -> set[str]:
    """The declared nodes the node faults among ``scenarios`` target."""
    return {s.target.node for s in scenarios if s.target.node and FAULT_KINDS[s.fault].target == "node"}


def plan_run(
    options: Options,
    profile: Profile,
    pack: Pack,
    registry: FaultLookup,
    runs: Sequence[tuple[AlertContract, Scenario, float | None]] | None = None,
    *,
    cluster_nodes: list[str] | None = None,
) -> RunPlan:
    """The plan for ``options.backend`` (kind or cluster). ``runs`` default: every scenario at its firing level."""
    env = profile.environment
    if runs is None:
        runs = [(alert, scenario, firing_level(alert)) for alert in profile.alerts for scenario in alert.scenarios]
    if options.backend == "kind":
        placement = kind_placement(profile, options.cluster_name, registry)
        assert placement.layout is not None
        plan = RunPlan("kind", placement)
        plan.cluster = [
            "tools: kind, helm, docker (from --kind/--helm/--docker, $KIND/$HELM/$DOCKER, PATH)",
            f"kind cluster {options.cluster_name}: reuse it if `kind get clusters` lists it and its nodes match "
            "the layout below, else `kind create cluster --config <work folder>/kind-cluster.yaml`, written from "
            f"the profile: a control plane and {placement.layout.workers} workers",
            f"afterwards (--keep-cluster {options.keep_cluster}): "
            + {
                "never": "delete it if this run created it",
                "on-failure": "delete it if this run created it and everything passed",
                "always": "keep it",
            }[options.keep_cluster],
        ]
        interval = format_duration(min(STACK_INTERVAL_S, profile.scrape_interval_s))
        plan.installs = [
            f"helm upgrade --install {RELEASE} {CHART} --version {CHART_VERSION} (repo {CHART_REPO}) "
            f"in namespace {env.monitoring_namespace}: scrape/evaluation every {interval}, default rules off, "
            f"receivers re-pointed at the capture webhook, every pod but node-exporter on "
            f"{placement.layout.node('monitoring')}",
            f"{len(pack.groups)} PrometheusRule(s) labelled release={RELEASE} in {env.monitoring_namespace}",
            f"capture webhook alert-conformance-capture (Deployment + Service) in {env.monitoring_namespace}, on "
            f"{placement.layout.node('monitoring')}",
            "watched during the run: Prometheus /api/v1/alerts (pending, firing) at "
            + (options.prometheus_url or f"service prometheus-operated:9090 in {env.monitoring_namespace}")
            + ", Alertmanager /api/v2/alerts at "
            + (options.alertmanager_url or f"service alertmanager-operated:9093 in {env.monitoring_namespace}")
            + ", the capture webhook; services through the API server's proxy",
        ]
        if env.volume_claims:
            plan.installs.append(
                f"storage: StorageClass {LOCAL_STORAGE_CLASS} and one local PersistentVolume per claim on a "
                f"size-limited tmpfs inside {placement.layout.node('workloads')} (hostPath volumes report no "
                "kubelet_volume_stats_*)"
            )
        storage: str | None = LOCAL_STORAGE_CLASS
    else:
        placement = Placement.for_cluster(env, options.allow_namespaces, cluster_nodes)
        plan = RunPlan("cluster", placement)
        where = str(options.kubeconfig) if options.kubeconfig else "the default kubeconfig"
        plan.cluster = [
            f"cluster: context {options.context or '(current)'} of {where}; nothing is installed with Helm",
            "Prometheus: "
            + (
                options.prometheus_url
                or "the first monitoring.coreos.com/v1 Prometheus, read at "
                "service prometheus-operated:9090 through the API server's proxy"
            ),
            "Alertmanager: "
            + (
                options.alertmanager_url
                or "the first monitoring.coreos.com/v1 Alertmanager, read at "
                "service alertmanager-operated:9093 through the API server's proxy"
            ),
            "preflight: a SelfSubjectAccessReview for every permission listed below, before any change",
            "namespace mapping: " + ", ".join(f"{k} -> {v}" for k, v in placement.namespaces.items()),
        ]
        rules = (
            "the pack's rules as PrometheusRule resources in the suite's namespace, labelled with the labels the "
            "cluster's Prometheus selects rules by (the matchLabels of its spec.ruleSelector, read at run time; "
            "the matchLabels of its spec.ruleNamespaceSelector are added to that namespace)"
            if options.alert_pack
            else "no rules installed: the rules already loaded in the cluster's Prometheus are certified"
        )
        plan.installs = [
            rules,
            "capture webhook alert-conformance-capture in the suite's namespace; an AlertmanagerConfig with "
            "`continue: true` in each target namespace adds it beside the real routing (real receivers untouched)",
        ]
        storage = None
    for obj in render(placement, PLAN_RUN_ID, RELEASE, storage_class=storage):
        meta = obj["metadata"]
        where_ns = f"{meta['namespace']}/" if meta.get("namespace") else ""
        plan.objects.append(f"create {obj['kind']} {where_ns}{meta['name']}")
    plan.steps = fault_steps(runs, placement, registry)
    plan.waves = waves(runnable(plan.steps))
    if plan.backend == "kind":
        _plan_losses(plan, profile, pack, registry)
    plan.refused = refusals(options, placement, plan.faults)
    if plan.backend == "cluster":
        perms = [*cluster_permissions()]
        for namespace in sorted(placement.standin_namespaces):
            perms.extend(namespace_permissions(namespace))
        for planned in plan.faults:
            perms.extend(planned.injector.permissions())
        plan.permissions = [p.describe() for p in unique(perms)]
    return plan


def _plan_losses(plan: RunPlan, profile: Profile, pack: Pack, registry: FaultLookup) -> None:
    """High availability on kind: the replica losses the replicas allow (:func:`conformance.replicas.ha_runs`).
    The losses that share the runs happen in every wave; each other loss gets waves of its own, with one step per
    documented alert (its first scenario reaching the loss's set-up, skipped where that scenario is), since it hits
    every run of its wave.
    """
    losses = replica_losses(profile, pack)
    namespace = profile.environment.monitoring_namespace
    plan.losses = [describe_loss(loss, namespace) for loss in losses]
    base = list(plan.steps)
    for loss in losses:
        if shares_runs(loss):
            continue
        chosen: dict[str, FaultStep] = {}
        for step in base:
            if step.alert.key not in chosen and (loss.setup is None or loss.setup in step.alert.receivers):
                chosen[step.alert.key] = step
        repeats = [
            replace(again, run_id=f"{again.run_id}+{loss.id}")
            for step in chosen.values()
            for again in fault_steps([(step.alert, step.scenario, step.level)], plan.placement, registry)
        ]
        plan.steps += repeats
        plan.waves += waves(runnable(repeats))


def render_plan(plan: RunPlan, estimate: RunEstimate | str | None = None) -> list[str]:
    """The plan as lines of text, section by section. ``estimate``: the run's duration estimate, or why there
    is none (a string)."""
    lines = [f"alert-conformance plan, backend {plan.backend} (nothing has been touched)", "", "Cluster:"]
    lines += [f"  {line}" for line in plan.cluster]
    lines += ["", f"Node mapping (declared node -> {plan.backend} node):", *_node_lines(plan.placement)]
    lines += ["", "Installs:"] + [f"  {line}" for line in plan.installs]
    lines += ["", "Workloads and objects (stand-ins, labelled app.kubernetes.io/managed-by=alert-conformance):"]
    lines += [f"  {line}" for line in plan.objects] or ["  none"]
    lines += [
        "",
        "Before the faults: restore or delete what an earlier, killed run left (found by its labels)",
        "",
        "Faults (each revert is registered before its fault and runs on failure, timeout and Ctrl-C):",
    ]
    for step in plan.steps:
        level = f" at level {step.level:g}" if step.level is not None else ""
        lines.append(f"  {step.run_id}{level}")
        if step.skip is not None:
            lines.append(f"    SKIP: {step.skip}")
        elif step.injector is not None:
            lines.append(f"    fault:  {step.injector.describe()}")
            lines.append(f"    revert: {step.injector.describe_revert()}")
    if plan.losses:
        lines += ["", "High availability (replicas lost during the waves, each revert run after its wave):"]
        for action, revert in plan.losses:
            lines += [f"  {action}", f"    revert: {revert}"]
    lines += ["", *_wave_lines(plan, estimate)]
    if plan.permissions:
        lines += ["", "Permissions checked by the preflight:"] + [f"  {p}" for p in plan.permissions]
    if plan.refused:
        lines += ["", f"REFUSED: the run would stop before touching anything ({len(plan.refused)} fault(s)):"]
        lines += [f"  {line}" for line in plan.refused]
    return lines


def _node_lines(placement: Placement) -> list[str]:
    if placement.layout is not None:
        return [f"  {line}" for line in placement.layout.describe()]
    return [f"  {declared} -> {node}" for declared, node in placement.nodes.items()]


def _where(step: FaultStep, placement: Placement) -> str:
    """Where a step acts, in real names: the node for a node fault, else the workers its pods run on."""
    assert step.injector is not None
    target = step.injector.target
    declared = step.scenario.target.node
    if target.component is not None or target.every_node:
        return target.describe() + (", node loss" if step.injector.node_loss else "")
    if target.node is not None and target.workload is None:
        loss = ", node loss" if step.injector.node_loss else ""
        return f"node {target.node} (declared {declared}{loss})"
    layout = placement.layout
    if layout is None:
        return f"{target.describe()}, on the nodes the scheduler picks"
    if target.workload is not None and target.workload.kind == "DaemonSet":
        return f"{target.describe()}, on {layout.node('workloads')} and {layout.node('monitoring')}"
    return f"{target.describe()}, on {layout.node('workloads')}"


def _wave_lines(plan: RunPlan, estimate: RunEstimate | str | None) -> list[str]:
    lines = [
        f"Waves ({len(plan.waves)}; one after another, a wave's faults together: no two on one object, no two "
        "node-loss faults on one worker):"
    ]
    if isinstance(estimate, RunEstimate):
        timings = [f": {wave.describe()}" for wave in estimate.waves]
    else:
        timings = [""] * len(plan.waves)
    for number, (wave, timing) in enumerate(zip(plan.waves, timings, strict=True), start=1):
        lines.append(f"  wave {number}{timing}")
        lines += [f"    {step.run_id}: {_where(step, plan.placement)}" for step in wave]
    if isinstance(estimate, RunEstimate):
        lines.append(
            f"Estimated duration: about {seconds(estimate.total_s)} for {len(plan.waves)} wave(s), each "
            "healthy period + slowest expected notification + resolution wait (from depth 3's predictions; "
            "cluster creation, Helm install and rollout waits come on top)"
        )
    elif estimate:
        lines.append(f"Estimated duration: {estimate}")
    return lines
