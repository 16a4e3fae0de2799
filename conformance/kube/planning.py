"""What a Kubernetes run will do, computed without touching anything: the plan ``--plan`` prints and the run
follows. Needs no cluster and no binaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from conformance.kube.faults import FaultLookup, Injector
from conformance.kube.placement import PROTECTED_NAMESPACES, Placement
from conformance.kube.preflight import cluster_permissions, namespace_permissions, unique
from conformance.kube.safety import PlannedFault, refusals
from conformance.kube.stack import CHART, CHART_REPO, CHART_VERSION, RELEASE, STACK_INTERVAL_S
from conformance.kube.standins import LOCAL_STORAGE_CLASS, render
from conformance.model.contract import AlertContract
from conformance.model.durations import format_duration
from conformance.model.profile import Profile
from conformance.model.scenario import Scenario
from conformance.options import Options
from conformance.packs.model import Pack
from conformance.static.cases import boundary_levels

PLAN_RUN_ID = "<run-id>"


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
    refused: list[str] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)

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
        skip = injector_cls.skip_reason(placement.backend, target)
        if target.namespace in PROTECTED_NAMESPACES:
            skip = "targets kube-system, which is never touched"
        steps.append(FaultStep(run_id, alert, scenario, level, injector_cls.build(scenario, target, level), skip))
    return steps


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
        placement = Placement.for_kind(env, options.cluster_name)
        plan = RunPlan("kind", placement)
        plan.cluster = [
            "tools: kind, helm, docker (from --kind/--helm/--docker, $KIND/$HELM/$DOCKER, PATH)",
            f"kind cluster {options.cluster_name}: reuse it if `kind get clusters` lists it, else `kind create "
            "cluster --config conformance/kube/data/kind-cluster.yaml` (a control plane and 2 workers)",
            f"afterwards (--keep-cluster {options.keep_cluster}): "
            + {
                "never": "delete it if this run created it",
                "on-failure": "delete it if this run created it and everything passed",
                "always": "keep it",
            }[options.keep_cluster],
            "node mapping: " + ", ".join(f"{k} -> {v}" for k, v in placement.nodes.items()),
        ]
        interval = format_duration(min(STACK_INTERVAL_S, profile.scrape_interval_s))
        plan.installs = [
            f"helm upgrade --install {RELEASE} {CHART} --version {CHART_VERSION} (repo {CHART_REPO}) "
            f"in namespace {env.monitoring_namespace}: scrape/evaluation every {interval}, default rules off, "
            "receivers re-pointed at the capture webhook",
            f"{len(pack.groups)} PrometheusRule(s) labelled release={RELEASE} in {env.monitoring_namespace}",
            f"capture webhook alert-conformance-capture (Deployment + Service) in {env.monitoring_namespace}",
            "watched during the run: Prometheus /api/v1/alerts (pending, firing) at "
            + (options.prometheus_url or f"service prometheus-operated:9090 in {env.monitoring_namespace}")
            + ", Alertmanager /api/v2/alerts at "
            + (options.alertmanager_url or f"service alertmanager-operated:9093 in {env.monitoring_namespace}")
            + ", the capture webhook; services through the API server's proxy",
        ]
        if env.volume_claims:
            plan.installs.append(
                f"storage: StorageClass {LOCAL_STORAGE_CLASS} and one local PersistentVolume per claim on a "
                "size-limited tmpfs inside the first worker (hostPath volumes report no kubelet_volume_stats_*)"
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
            "node mapping: " + ", ".join(f"{k} -> {v}" for k, v in placement.nodes.items()),
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
    plan.refused = refusals(options, placement, plan.faults)
    if plan.backend == "cluster":
        perms = [*cluster_permissions()]
        for namespace in sorted(placement.standin_namespaces):
            perms.extend(namespace_permissions(namespace))
        for planned in plan.faults:
            perms.extend(planned.injector.permissions())
        plan.permissions = [p.describe() for p in unique(perms)]
    return plan


def render_plan(plan: RunPlan) -> list[str]:
    """The plan as lines of text, section by section."""
    lines = [f"alert-conformance plan, backend {plan.backend} (nothing has been touched)", "", "Cluster:"]
    lines += [f"  {line}" for line in plan.cluster]
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
    if plan.permissions:
        lines += ["", "Permissions checked by the preflight:"] + [f"  {p}" for p in plan.permissions]
    if plan.refused:
        lines += ["", f"REFUSED: the run would stop before touching anything ({len(plan.refused)} fault(s)):"]
        lines += [f"  {line}" for line in plan.refused]
    return lines
