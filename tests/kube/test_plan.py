"""The plan of a Kubernetes run: the kind layout and node mapping, waves, honest skips, where the suite's pods
are scheduled, and the duration estimate."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from conformance_plugins.registry import FaultRegistry
from kube_world import ENVIRONMENT, NS

from conformance.errors import BackendError, InputError
from conformance.kube.estimate import estimate_run
from conformance.kube.layout import ROLE_LABEL, KindLayout
from conformance.kube.placement import Placement
from conformance.kube.planning import FaultStep, RunPlan, plan_run, runnable, step_objects, waves
from conformance.kube.stack import stack_values
from conformance.kube.standins import capture_manifests, render
from conformance.model.contract import AlertContract
from conformance.model.profile import Profile
from conformance.model.scenario import Scenario, Target
from conformance.observe.expectations import Expectation, ReceiverExpectation
from conformance.options import Options
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.profiles import load_profile

REGISTRY = FaultRegistry()


@pytest.fixture(scope="module")
def runai() -> tuple[Profile, Pack]:
    profile = load_profile("runai")
    return profile, load_pack(profile.pack_path)


@pytest.fixture(scope="module")
def kind_plan(runai: tuple[Profile, Pack]) -> RunPlan:
    profile, pack = runai
    return plan_run(Options(profile="runai", backend="kind", cluster_name="ac"), profile, pack, REGISTRY)


def step(kind_plan: RunPlan, scenario_id: str) -> FaultStep:
    return next(s for s in kind_plan.steps if s.scenario.id == scenario_id)


# -- the kind layout and the node mapping ------------------------------------------------------------------------


def test_every_node_fault_that_runs_gets_a_worker_of_its_own(kind_plan: RunPlan) -> None:
    layout = kind_plan.placement.layout
    assert layout is not None
    nodes = kind_plan.placement.nodes
    # runai: cordon gpu-node-6, stopped kubelet gpu-node-1, cordon gpu-node-3 run on kind
    assert [(n.name, n.part, n.declared) for n in layout.nodes if n.part == "node-faults"] == [
        ("ac-worker3", "node-faults", ("gpu-node-1",)),
        ("ac-worker4", "node-faults", ("gpu-node-3",)),
        ("ac-worker5", "node-faults", ("gpu-node-6",)),
    ]
    # the skipped node faults (Ready=False, node memory) and the untargeted workers share the workloads worker
    for declared in ("system-worker-1", "system-worker-2", "gpu-node-2", "gpu-node-4", "gpu-node-5"):
        assert nodes[declared] == "ac-worker"
    assert nodes["control-plane-1"] == "ac-control-plane"
    assert layout.workers == 5


def test_no_fault_ever_targets_the_monitoring_worker(kind_plan: RunPlan) -> None:
    layout = kind_plan.placement.layout
    assert layout is not None
    monitoring = layout.node("monitoring")
    assert monitoring == "ac-worker2" and monitoring not in kind_plan.placement.nodes.values()
    node_steps = [s for s in runnable(kind_plan.steps) if s.injector and s.injector.target.node]
    assert node_steps and all(s.injector and s.injector.target.node != monitoring for s in node_steps)


def test_the_layout_does_not_depend_on_the_runs_chosen(runai: tuple[Profile, Pack], kind_plan: RunPlan) -> None:
    """prepare() creates the cluster from the whole profile's plan; run() plans the runs it got: same nodes."""
    profile, pack = runai
    alert = next(a for a in profile.alerts if a.name == "RunaiCriticalProblem")
    chosen = [(alert, alert.scenarios[0], None)]
    plan = plan_run(Options(profile="runai", backend="kind", cluster_name="ac"), profile, pack, REGISTRY, chosen)
    assert plan.placement.layout == kind_plan.placement.layout


def test_a_reused_cluster_of_another_layout_is_refused_in_one_line() -> None:
    layout = KindLayout.for_environment(ENVIRONMENT, "ac", ("node-a",))
    good = [{"metadata": {"name": n.name, "labels": {ROLE_LABEL: n.part}}} for n in layout.nodes]
    layout.check(good)
    old_two_workers: list[dict[str, Any]] = [
        {"metadata": {"name": name, "labels": {}}} for name in ("ac-control-plane", "ac-worker")
    ]
    with pytest.raises(BackendError) as info:
        layout.check(old_two_workers)
    message = str(info.value)
    assert "\n" not in message and "ac-worker, ac-worker2, ac-worker3" in message
    assert "kind delete cluster --name ac" in message


# -- waves -----------------------------------------------------------------------------------------------------


def test_the_plan_carries_waves_of_every_runnable_step_without_shared_objects(kind_plan: RunPlan) -> None:
    flat = [s.run_id for wave in kind_plan.waves for s in wave]
    assert sorted(flat) == sorted(s.run_id for s in runnable(kind_plan.steps))
    for wave in kind_plan.waves:
        objects = [o for s in wave for o in step_objects(s)]
        assert len(objects) == len(set(objects))


def node_loss_steps(placement: Placement, alert: AlertContract) -> list[FaultStep]:
    steps = []
    for node in ("node-a", "node-b"):
        scenario = Scenario(f"down-{node}", "node-not-ready", Target(node=node))
        injector = REGISTRY.get("node-not-ready").build(scenario, placement.resolve(scenario), None)
        steps.append(FaultStep(f"{alert.key}:{scenario.id}", alert, scenario, None, injector))
    return steps


def test_two_node_loss_faults_on_one_worker_never_share_a_wave(runai: tuple[Profile, Pack]) -> None:
    # an existing cluster with one worker: both declared nodes are played by it
    placement = Placement.for_cluster(ENVIRONMENT, (), ["real-1"])
    grouped = waves(node_loss_steps(placement, runai[0].alerts[0]))
    assert [[s.scenario.id for s in wave] for wave in grouped] == [["down-node-a"], ["down-node-b"]]


def test_node_loss_faults_on_workers_of_their_own_go_together(runai: tuple[Profile, Pack]) -> None:
    placement = Placement.for_kind(ENVIRONMENT, "ac", ("node-a", "node-b"))
    assert len(waves(node_loss_steps(placement, runai[0].alerts[0]))) == 1


def test_a_claim_and_the_workload_writing_to_it_are_one_object(runai: tuple[Profile, Pack]) -> None:
    placement = Placement.for_kind(ENVIRONMENT, "ac")
    alert = runai[0].alerts[0]
    fill = Scenario("fill", "fill-volume", Target(namespace=NS, volume_claim="data"))
    kill = Scenario("kill", "kill-pods", Target(namespace=NS, workload="api"))
    steps = [
        FaultStep("A:fill", alert, fill, 0.1, REGISTRY.get("fill-volume").build(fill, placement.resolve(fill), 0.1)),
        FaultStep("A:kill", alert, kill, None, REGISTRY.get("kill-pods").build(kill, placement.resolve(kill), None)),
    ]
    assert len(waves(steps)) == 2


def test_two_faults_on_kube_state_metrics_cluster_role_never_share_a_wave(runai: tuple[Profile, Pack]) -> None:
    """ksm-list-errors has no target but one object, kube-state-metrics' ClusterRole: the injector of the second
    would find the first's change applied."""
    placement = Placement.for_kind(ENVIRONMENT, "ac")
    alert = runai[0].alerts[0]
    lists = Scenario("l", "ksm-list-errors", Target(), params={"resource": "leases"})
    watches = Scenario("w", "ksm-list-errors", Target(), params={"resource": "secrets", "denied": "watch"})
    steps = [
        FaultStep(f"A:{s.id}", alert, s, None, REGISTRY.get(s.fault).build(s, placement.resolve(s), None))
        for s in (lists, watches)
    ]
    assert step_objects(steps[0]) == step_objects(steps[1]) == {"clusterrole/kube-state-metrics"}
    assert len(waves(steps)) == 2


# -- honest skips ----------------------------------------------------------------------------------------------


def test_ready_false_is_skipped_on_kind_with_the_reason(kind_plan: RunPlan) -> None:
    ready_false = step(kind_plan, "ready-false")
    assert ready_false.skip is not None and "a stopped kubelet gives Ready=Unknown" in ready_false.skip
    assert step(kind_plan, "ready-unknown").skip is None
    assert ready_false.run_id not in [s.run_id for wave in kind_plan.waves for s in wave]


def test_a_bad_ready_status_is_one_clear_input_error() -> None:
    placement = Placement.for_kind(ENVIRONMENT, "ac")
    scenario = Scenario("odd", "node-not-ready", Target(node="node-a"), params={"ready_status": "maybe"})
    with pytest.raises(InputError, match="scenario odd: ready_status must be 'unknown' or 'false', not 'maybe'"):
        REGISTRY.get("node-not-ready").build(scenario, placement.resolve(scenario), None)


def test_a_crash_loop_of_one_pod_is_skipped_not_run_on_every_pod() -> None:
    placement = Placement.for_kind(ENVIRONMENT, "ac")
    one = Scenario("one", "crash-loop", Target(namespace=NS, workload="api", container="app"), params={"pods": "one"})
    every = Scenario("all", "crash-loop", Target(namespace=NS, workload="api", container="app"))
    crash = REGISTRY.get("crash-loop")
    assert "every pod" in str(crash.build(one, placement.resolve(one), 3).params_skip_reason("kind"))
    assert crash.build(every, placement.resolve(every), 3).params_skip_reason("kind") is None


# -- where the suite's pods run --------------------------------------------------------------------------------


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    result: dict[str, Any] = spec["template"]["spec"]
    return result


def test_kind_stand_ins_stay_off_the_node_fault_workers() -> None:
    objects = render(Placement.for_kind(ENVIRONMENT, "ac", ("node-a",)), "r", "rel", storage_class=None)
    pods = {
        o["metadata"]["name"]: pod_spec(o) for o in objects if o["kind"] in ("Deployment", "StatefulSet", "CronJob")
    }
    assert set(pods) == {"api", "db", "nightly"}
    assert all(p["nodeSelector"] == {ROLE_LABEL: "workloads"} for p in pods.values())
    [daemonset] = [pod_spec(o) for o in objects if o["kind"] == "DaemonSet"]
    term = daemonset["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": ROLE_LABEL, "operator": "In", "values": ["workloads", "monitoring"]}]}
    ]


def test_existing_cluster_stand_ins_and_capture_are_left_to_the_scheduler() -> None:
    placement = Placement.for_cluster(ENVIRONMENT, ())
    objects = render(placement, "r", "rel", storage_class=None) + capture_manifests("ns", "r", placement=placement)
    specs = [pod_spec(o) for o in objects if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "CronJob")]
    assert specs and not any("nodeSelector" in s or "affinity" in s for s in specs)


def test_the_stack_and_the_capture_webhook_run_on_the_monitoring_worker(runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    values = stack_values(profile, pack, "monitoring")
    selector = {ROLE_LABEL: "monitoring"}
    assert values["prometheus"]["prometheusSpec"]["nodeSelector"] == selector
    assert values["alertmanager"]["alertmanagerSpec"]["nodeSelector"] == selector
    assert values["prometheusOperator"]["nodeSelector"] == selector
    assert values["prometheusOperator"]["admissionWebhooks"]["patch"]["nodeSelector"] == selector
    assert values["kube-state-metrics"]["nodeSelector"] == selector
    capture = capture_manifests("monitoring", "r", placement=Placement.for_kind(ENVIRONMENT, "ac"))
    [deployment] = [o for o in capture if o["kind"] == "Deployment"]
    assert pod_spec(deployment)["nodeSelector"] == selector


def test_kube_state_metrics_self_monitoring_follows_the_profile(runai: tuple[Profile, Pack]) -> None:
    """The chart's kube-state-metrics.selfMonitor.enabled (default false) is on only where the profile asks."""
    profile, pack = runai
    assert stack_values(profile, pack, "monitoring")["kube-state-metrics"]["selfMonitor"] == {"enabled": False}
    monitored = replace(profile, environment=replace(profile.environment, ksm_self_monitor=True))
    values = stack_values(monitored, pack, "monitoring")
    assert values["kube-state-metrics"]["selfMonitor"] == {"enabled": True}


# -- the duration estimate -------------------------------------------------------------------------------------


def expectation(run_id: str, fire_s: float | None, *, resolved: bool = True, revert_s: float = 400.0) -> Expectation:
    receiver = ReceiverExpectation("setup/hook", resolved, group_wait_s=30.0, group_interval_s=300.0)
    return Expectation(
        run_id=run_id,
        scale=1.0,
        fire_s=fire_s,
        scrape_s=15.0,
        evaluation_s=15.0,
        receivers=(receiver,),
        revert_s=revert_s,
        resolve_delta_s=60.0,
    )


def test_a_wave_lasts_its_healthy_period_slowest_notification_and_resolution_wait() -> None:
    expectations = {"a": expectation("a", 120.0), "b": expectation("b", 600.0, resolved=False)}
    [wave] = estimate_run([["a", "b"]], expectations, healthy_s=70.0).waves
    # b is notified last: 600 + scrape 15 + evaluation 15 + group_wait 30 + 0.5 tolerance
    assert wave.notify_s == pytest.approx(660.5)
    # only a sends resolved: 60 s to resolve after the revert + 15 + 15 + group_interval 300 + 0.5
    assert wave.resolve_s == pytest.approx(390.5)
    assert wave.total_s == pytest.approx(70.0 + 660.5 + 390.5)


def test_a_run_is_the_sum_of_its_waves_and_unpredicted_runs_add_nothing() -> None:
    expectations = {"a": expectation("a", 120.0), "quiet": expectation("quiet", None, revert_s=400.0)}
    estimate = estimate_run([["a"], ["quiet"], ["unknown"]], expectations, healthy_s=70.0)
    first, quiet, unknown = estimate.waves
    assert quiet.notify_s == 400.0  # predicted never to fire: held as long as depth 3 held it
    assert unknown.total_s == 0.0 and unknown.unpredicted == ("unknown",)
    assert estimate.total_s == pytest.approx(first.total_s + quiet.total_s)
