"""Every fault against the fake API server: the exact calls it makes, and its revert on every way out."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from conformance_plugins.registry import FaultRegistry
from conformance_plugins.stuck_rollout import UNPULLABLE_REGISTRY, UNPULLABLE_TAG, unpullable_image
from kube_world import NODE_A, NODE_B, NS, RUN_ID, World

from conformance.errors import BackendError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.client import WaitTimeoutError
from conformance.kube.exec import ExecCall, ExecResult
from conformance.kube.faults import Injector
from conformance.kube.inject import inject
from conformance.kube.reverts import RevertError
from conformance.model.scenario import FAULT_KINDS, Scenario, Target, fault_job_name
from conformance.sim import SimulatedCluster, matching
from conformance.sim.examples import example_environment

REGISTRY = FaultRegistry()

# fault -> (target in profile names, params, level)
CASES: dict[str, tuple[Target, dict[str, Any], float | None]] = {
    "kill-pods": (Target(namespace=NS, workload="api"), {}, None),
    "crash-loop": (Target(namespace=NS, workload="api", container="app"), {}, 3),
    "crash-loop-backoff": (Target(namespace=NS, workload="api", container="app"), {}, None),
    "unavailable-replicas": (Target(namespace=NS, workload="api"), {}, 2),
    "stuck-rollout": (Target(namespace=NS, workload="api"), {"progress_deadline_s": 60}, None),
    "fill-volume": (Target(namespace=NS, volume_claim="data"), {}, 0.04),
    "cordon-node": (Target(node="node-a"), {}, None),
    "node-not-ready": (Target(node="node-b"), {}, None),
    "memory-near-limit": (Target(namespace=NS, workload="api", container="app"), {}, 0.9),
    "cpu-near-limit": (Target(namespace=NS, workload="api", container="app"), {}, 0.9),
    "cpu-throttling": (Target(namespace=NS, workload="api", container="app"), {}, 0.3),
    "node-memory-pressure": (Target(node="node-a"), {"namespace": NS}, 0.9),
    "fail-job": (Target(namespace=NS, job="nightly"), {}, None),
    "target-down": (Target(namespace=NS, workload="api"), {}, None),
    "error-rate": (Target(namespace=NS, workload="api"), {}, 0.1),
    "latency": (Target(namespace=NS, workload="api"), {}, 2.5),
    "metric-rate-drop": (Target(namespace=NS, workload="api"), {"metric": "pushes_total"}, 0.0),
    "error-counter": (Target(namespace=NS, workload="api"), {"metric": "pushes_total"}, 1.0),
    "job-too-long": (Target(namespace=NS, job="nightly"), {}, None),
    "pv-failed": (Target(namespace=NS, volume_claim="data"), {}, None),
    "ksm-list-errors": (Target(), {"resource": "leases"}, None),
    "hpa-maxed": (Target(namespace=NS, workload="api"), {}, None),
    "quota-usage": (Target(namespace=NS, quota="team"), {"resource": "requests.memory"}, 0.92),
    "pdb-unsatisfiable": (Target(namespace=NS, workload="db"), {}, None),
    "control-plane-down": (Target(component="kube-scheduler"), {}, None),
    "kubelets-down": (Target(), {}, None),
    "fill-node-filesystem": (Target(node="node-a"), {"namespace": NS}, 0.04),
    "clock-drift": (Target(node="node-b"), {"namespace": NS}, 0.06),
}
SKIPPED_EVERYWHERE = {"network-flood"}
#: Faults that change nothing on the cluster (an always-firing alert's scenario).
CHANGES_NOTHING = {"none"}


def build(world: World, fault: str) -> Injector:
    target, params, level = CASES[fault]
    scenario = Scenario(id=fault, fault=fault, target=target, params=params)
    return REGISTRY.get(fault).build(scenario, world.placement.resolve(scenario), level)


#: busybox adjtimex on a node whose NTP daemon uses the kernel PLL (status 1: STA_PLL), offset 120 us.
ADJTIMEX_OUTPUT = "    mode:         0\n-o  offset:       120 us\n    status:       1 (PLL)\n"
#: df of the 64 MiB tmpfs the node filesystem fault mounts, empty.
TMPFS_DF = (
    "Filesystem 1024-blocks Used Available Capacity Mounted on\ntmpfs 65536 0 65536 0% /mnt/alert-conformance-fill\n"
)


def node_answers(call: ExecCall) -> ExecResult:
    """What a node pod answers: busybox adjtimex, df of the tmpfs (through nsenter); everything else succeeds."""
    if call.argv[0] == "adjtimex":
        return ExecResult(0, ADJTIMEX_OUTPUT)
    if "df" in call.argv:
        return ExecResult(0, TMPFS_DF)
    return ExecResult(0, "")


def prepare(world: World, fault: str) -> Injector:
    if fault in ("node-memory-pressure", "fill-node-filesystem", "clock-drift"):
        if fault != "fill-node-filesystem":
            world.ctx.backend = "cluster"  # skipped on kind (see test_skips); proven on the existing-cluster path
        if fault != "node-memory-pressure":
            world.executor.handler = node_answers

        def pod_running(api: Any, event: str, resource: Any, obj: dict[str, Any]) -> None:
            if event == "create" and resource is r.PODS:
                obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}

        world.api.reactors.append(pod_running)
    return build(world, fault)


def comparable(world: World) -> dict[Any, Any]:
    snapshot: dict[Any, Any] = world.snapshot()
    return snapshot


def assert_restored(world: World, before: dict[Any, Any]) -> None:
    """Everything the fault changed is back; what it created is gone; no pod lost its state."""
    after = comparable(world)
    for key, value in after.items():
        if key[1] == "pods" and key not in before:
            pytest.fail(f"a pod the fault created is left behind: {key}")
        assert before.get(key) == value, f"{key} differs after the revert"
    for key in before:
        if key[1] != "pods":  # kill-pods deletes pods: their controller recreates them
            assert key in after, f"{key} was deleted and not restored"
    marked = [
        key
        for key, obj in world.api.objects.items()
        if lb.FAULT_ANNOTATION in (obj["metadata"].get("annotations") or {})
    ]
    assert marked == []


ALL_FAULTS = sorted(CASES)


def test_every_fault_kind_has_a_case_or_a_skip() -> None:
    assert set(CASES) | SKIPPED_EVERYWHERE | CHANGES_NOTHING == set(FAULT_KINDS)


def test_fault_none_writes_nothing_and_reverts_nothing(world: World) -> None:
    scenario = Scenario(id="none", fault="none", target=Target())
    injector = REGISTRY.get("none").build(scenario, world.placement.resolve(scenario), None)
    assert injector.permissions() == []
    inject(world.ctx, [injector], lambda: None)
    assert world.api.writes == []


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_revert_runs_when_the_hold_fails(world: World, fault: str) -> None:
    injector = prepare(world, fault)
    before = comparable(world)

    def hold() -> None:
        assert world.api.writes, "the fault changed nothing"
        raise RuntimeError("the observation failed")

    with pytest.raises(RuntimeError, match="observation failed"):
        inject(world.ctx, [injector], hold)
    assert_restored(world, before)


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_revert_runs_on_keyboard_interrupt(world: World, fault: str) -> None:
    injector = prepare(world, fault)
    before = comparable(world)

    def hold() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        inject(world.ctx, [injector], hold)
    assert_restored(world, before)


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_revert_runs_when_a_wait_times_out(world: World, fault: str) -> None:
    injector = prepare(world, fault)
    before = comparable(world)

    def hold() -> None:
        world.client.wait_for("an alert that never fires", lambda: None, timeout_s=0.1, interval_s=0.02)

    with pytest.raises(WaitTimeoutError, match=r"an alert that never fires after 0\.1s"):
        inject(world.ctx, [injector], hold)
    assert_restored(world, before)


@pytest.mark.parametrize("fault", ALL_FAULTS)
def test_revert_is_safe_when_apply_never_ran_and_twice(world: World, fault: str) -> None:
    injector = prepare(world, fault)
    before = comparable(world)
    injector.revert(world.ctx)
    injector.revert(world.ctx)
    assert_restored(world, before)
    assert [c for c in world.api.writes if c.method != "DELETE"] == []


def test_revert_runs_when_apply_fails_half_way(world: World) -> None:
    """fill-volume: the claim is annotated, then df fails; the annotation is removed again."""
    injector = build(world, "fill-volume")
    before = comparable(world)
    world.executor.handler = lambda call: (
        ExecResult(1, "", "df: not found") if call.argv[0] == "df" else ExecResult(0, "")
    )
    with pytest.raises(BackendError, match="df in demo/api-0 failed"):
        inject(world.ctx, [injector], lambda: None)
    assert world.api.calls_to("PATCH", "/persistentvolumeclaims/data")  # it had changed something
    assert_restored(world, before)


def test_statefulset_pod_delete_failing_still_restores_the_template(world: World) -> None:
    scenario = Scenario("s", "unavailable-replicas", Target(namespace=NS, workload="db"))
    injector = REGISTRY.get("unavailable-replicas").build(scenario, world.placement.resolve(scenario), 1)
    before = comparable(world)
    world.api.fail("DELETE", "/pods/db-2", 500)
    with pytest.raises(BackendError, match="500"):
        inject(world.ctx, [injector], lambda: None)
    assert_restored(world, before)


def test_node_not_ready_timing_out_starts_the_kubelet_again(world: World) -> None:
    """The kubelet 'stops' but the node never turns NotReady: the wait times out and the revert still runs."""
    injector = build(world, "node-not-ready")

    def stop_without_effect(node: str, *, hold_s: float) -> None:
        world.agent.calls.append(("stop", node))

    world.agent.stop_kubelet = stop_without_effect  # type: ignore[method-assign]
    before = comparable(world)
    with pytest.raises(WaitTimeoutError, match=f"node {NODE_B} to be NotReady"):
        inject(world.ctx, [injector], lambda: None)
    assert world.agent.calls == [("stop", NODE_B), ("start", NODE_B)]
    assert_restored(world, before)


def test_a_failing_revert_is_reported_and_the_others_still_run(world: World) -> None:
    cordon, crash = build(world, "cordon-node"), build(world, "crash-loop")
    world.api.reactors.clear()  # the deployment never becomes ready again: crash-loop's revert wait times out
    with pytest.raises(RevertError, match="crash-loop: restore the original pod template") as info:
        inject(world.ctx, [cordon, crash], lambda: None)
    assert "gave up waiting for Deployment demo/api to be ready" in str(info.value)
    node = world.api.get(r.NODES, NODE_A)
    assert node is not None and "unschedulable" not in node["spec"]


# -- the exact calls of each fault --------------------------------------------------------------------------


def applied(world: World, fault: str) -> list[tuple[str, str, Any]]:
    injector = prepare(world, fault)
    injector.apply(world.ctx)
    return [(c.method, c.path, c.body) for c in world.api.writes]


def writes(world: World) -> list[tuple[str, str, Any]]:
    return [(c.method, c.path, c.body) for c in world.api.writes]


def restore_of(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(body["metadata"]["annotations"][lb.RESTORE_ANNOTATION])
    return result


def test_cordon_calls(world: World) -> None:
    [(method, path, body)] = applied(world, "cordon-node")
    assert (method, path) == ("PATCH", f"/api/v1/nodes/{NODE_A}")
    assert body["spec"] == {"unschedulable": True}
    assert body["metadata"]["labels"] == {lb.MANAGED_BY_KEY: lb.MANAGED_BY, lb.RUN_KEY: RUN_ID}
    assert restore_of(body)["spec"] == {"unschedulable": None}
    assert world.api.calls_to("PATCH")[0].content_type == "application/strategic-merge-patch+json"


def test_cordon_keeps_a_node_that_was_already_cordoned(world: World) -> None:
    world.api.update(r.NODES, NODE_A, None, lambda node: node["spec"].update(unschedulable=True))
    injector = build(world, "cordon-node")
    inject(world.ctx, [injector], lambda: None)
    node = world.api.get(r.NODES, NODE_A)
    assert node is not None and node["spec"]["unschedulable"] is True


def test_unavailable_replicas_keeps_the_desired_count(world: World) -> None:
    [(method, path, body)] = applied(world, "unavailable-replicas")
    assert (method, path) == ("PATCH", "/apis/apps/v1/namespaces/demo/deployments/api")
    assert "replicas" not in body["spec"]
    assert body["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 2}}
    assert body["spec"]["template"]["spec"]["nodeSelector"] == {"alert-conformance/unschedulable": RUN_ID}
    deployment = world.api.get(r.DEPLOYMENTS, "api", NS)
    assert deployment is not None and deployment["spec"]["replicas"] == 3
    assert restore_of(body)["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%", "maxUnavailable": "25%"}


def test_unavailable_replicas_on_a_daemonset_uses_a_readiness_probe(world: World) -> None:
    scenario = Scenario("s", "unavailable-replicas", Target(namespace=NS, workload="agent"))
    injector = REGISTRY.get("unavailable-replicas").build(scenario, world.placement.resolve(scenario), 1)
    injector.apply(world.ctx)
    [call] = world.api.writes
    containers = call.body["spec"]["template"]["spec"]["containers"]
    assert containers[0]["readinessProbe"]["tcpSocket"] == {"port": 1}
    assert "nodeSelector" not in call.body["spec"]["template"]["spec"]


def test_unavailable_replicas_on_a_statefulset_deletes_the_highest_ordinals(world: World) -> None:
    scenario = Scenario("s", "unavailable-replicas", Target(namespace=NS, workload="db"))
    injector = REGISTRY.get("unavailable-replicas").build(scenario, world.placement.resolve(scenario), 2)
    injector.apply(world.ctx)
    writes = [(c.method, c.path) for c in world.api.writes]
    assert writes == [
        ("PATCH", "/apis/apps/v1/namespaces/demo/statefulsets/db"),
        ("DELETE", "/api/v1/namespaces/demo/pods/db-1"),
        ("DELETE", "/api/v1/namespaces/demo/pods/db-2"),
    ]
    assert world.api.writes[0].body["spec"]["updateStrategy"] == {"type": "OnDelete", "rollingUpdate": None}


def test_crash_loop_calls(world: World) -> None:
    [(_, path, body)] = applied(world, "crash-loop")
    assert path == "/apis/apps/v1/namespaces/demo/deployments/api"
    [container] = body["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sh", "-c", "sleep 5; exit 1"]
    assert restore_of(body)["spec"]["template"]["spec"]["containers"][0]["command"] == ["sleep", "3600"]


def test_crash_loop_backoff_is_the_crash_loop_patch_held_until_the_revert(world: World) -> None:
    [(_, path, body)] = applied(world, "crash-loop-backoff")
    assert path == "/apis/apps/v1/namespaces/demo/deployments/api"
    [container] = body["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["sh", "-c", "sleep 5; exit 1"]
    assert build(world, "crash-loop-backoff").describe().endswith("held until the revert")


def test_memory_past_the_limit_is_skipped_as_kind_cannot_oom_kill_the_container(world: World) -> None:
    """An exec'd stress process is a child in the container's cgroup: at the limit the kernel's OOM killer picks
    it (the largest), PID 1 survives, so there is no restart and no OOMKilled status to prove."""
    scenario = Scenario("oom", "memory-near-limit", Target(namespace=NS, workload="api", container="app"))
    injector = REGISTRY.get("memory-near-limit")
    oom = injector.build(scenario, world.placement.resolve(scenario), 1.0)
    assert "OOM-killed" in str(oom.params_skip_reason("kind"))
    near = injector.build(scenario, world.placement.resolve(scenario), 0.95)
    assert near.params_skip_reason("kind") is None


def test_stuck_rollout_calls(world: World) -> None:
    [(_, path, body)] = applied(world, "stuck-rollout")
    assert path == "/apis/apps/v1/namespaces/demo/deployments/api"
    assert body["spec"]["progressDeadlineSeconds"] == 60
    assert "strategy" not in body["spec"] and "replicas" not in body["spec"]
    # only the images change (and the pull policy that forces the pull): no nodeSelector, no probe
    assert body["spec"]["template"]["spec"].keys() == {"containers"}
    [container] = body["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{UNPULLABLE_REGISTRY}/busybox:{UNPULLABLE_TAG}"
    assert container["imagePullPolicy"] == "Always"
    assert {k: v for k, v in container.items() if k not in ("image", "imagePullPolicy")} == {
        "name": "app",
        "command": ["sleep", "3600"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "ports": [{"containerPort": 8080, "name": "metrics"}],
    }
    [original] = restore_of(body)["spec"]["template"]["spec"]["containers"]
    assert original["image"] == "busybox:1.36" and "imagePullPolicy" not in original


def test_stuck_rollout_of_a_daemonset_is_the_same_image_pull_failure(world: World) -> None:
    scenario = Scenario("s", "stuck-rollout", Target(namespace=NS, workload="agent"))
    injector = REGISTRY.get("stuck-rollout").build(scenario, world.placement.resolve(scenario), None)
    before = comparable(world)
    injector.apply(world.ctx)
    [write] = world.api.writes
    [container] = write.body["spec"]["template"]["spec"]["containers"]
    assert container["image"].startswith(UNPULLABLE_REGISTRY) and "readinessProbe" not in container
    assert "progressDeadlineSeconds" not in write.body["spec"]  # a Deployment's field only
    injector.revert(world.ctx)
    assert_restored(world, before)


#: a Docker image reference: [host[:port]/]path[:tag] (distribution/reference, lower-case path components)
REFERENCE = re.compile(
    r"(?P<host>[a-z0-9.-]+(?::[0-9]+)?/)?(?P<path>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
    r":(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})"
)


@pytest.mark.parametrize(
    ("image", "path"),
    [
        ("busybox:1.36", "busybox"),
        ("busybox", "busybox"),
        ("registry.k8s.io/pause:3.9", "pause"),
        ("localhost:5000/team/app:1", "team/app"),
        ("ghcr.io/org/app@sha256:" + "a" * 64, "org/app"),
        ("library/python:3.12-alpine", "library/python"),
    ],
)
def test_the_unpullable_image_is_always_a_valid_reference_on_a_host_that_never_resolves(image: str, path: str) -> None:
    reference = unpullable_image(image)
    match = REFERENCE.fullmatch(reference)
    assert match is not None, reference
    assert match["host"] == f"{UNPULLABLE_REGISTRY}/" and UNPULLABLE_REGISTRY.endswith(".invalid")
    assert (match["path"], match["tag"]) == (path, UNPULLABLE_TAG)


def test_stuck_rollout_means_on_kind_what_it_means_on_the_twin(world: World) -> None:
    """The twin's stuck rollout is an image pull failure (new pods waiting in ImagePullBackOff, their image tagged
    as the kind fault tags it); the kind fault must produce that mechanism, not Pending pods without a reason."""
    sim = SimulatedCluster(example_environment())
    sim.advance_to(100.0)
    sim.apply_fault(Scenario("s", "stuck-rollout", Target(namespace="ml", workload="api")), None)
    sim.advance_to(200.0)
    stored = sim.stored_samples()
    waiting = matching(stored, "kube_pod_container_status_waiting_reason", namespace="ml", reason="ImagePullBackOff")
    assert waiting
    images = {dict(key)["image"] for key in matching(stored, "kube_pod_container_info", namespace="ml")}
    assert any(image.endswith(f":{UNPULLABLE_TAG}") for image in images)
    [(_, _, body)] = applied(world, "stuck-rollout")
    containers = body["spec"]["template"]["spec"]["containers"]
    assert all(c["image"].endswith(f":{UNPULLABLE_TAG}") and c["imagePullPolicy"] == "Always" for c in containers)


def test_kill_pods_calls(world: World) -> None:
    writes = applied(world, "kill-pods")
    assert [(m, p) for m, p, _ in writes] == [("DELETE", f"/api/v1/namespaces/demo/pods/api-{i}") for i in range(3)]
    assert all(body["gracePeriodSeconds"] == 0 for _, _, body in writes)


def test_fill_volume_writes_to_the_level(world: World) -> None:
    writes = applied(world, "fill-volume")
    assert [(m, p) for m, p, _ in writes] == [("PATCH", "/api/v1/namespaces/demo/persistentvolumeclaims/data")]
    df, fill = world.executor.calls
    assert df == ExecCall(NS, "api-0", "app", ("df", "-Pk", "/data"))
    # 1 GiB volume, 943718 KiB free; 4% of 1 GiB must stay free.
    expected = 943718 * 1024 - int(0.04 * 1048576 * 1024)
    assert fill.argv[:2] == ("sh", "-c") and f"fallocate -l {expected} /data/.alert-conformance-fill" in fill.argv[2]
    world.executor.calls.clear()
    injector = build(world, "fill-volume")
    injector.revert(world.ctx)
    assert world.executor.calls == [ExecCall(NS, "api-0", "app", ("rm", "-f", "/data/.alert-conformance-fill"))]


def test_fill_volume_refuses_a_volume_already_past_the_level(world: World) -> None:
    world.executor.handler = lambda call: (
        ExecResult(0, "F 1048576 1040000 8576 99% /data") if call.argv[0] == "df" else ExecResult(0, "")
    )
    with pytest.raises(BackendError, match=r"already has only 0\.8% free"):
        inject(world.ctx, [build(world, "fill-volume")], lambda: None)


def test_memory_near_limit_holds_the_difference(world: World) -> None:
    applied(world, "memory-near-limit")
    read, start = world.executor.calls
    assert "memory.current" in read.argv[2]
    hold = int(0.9 * 512 * 2**20) - 100 * 2**20
    assert f'sprintf("%{hold}s", "")' in start.argv[2] and "alert-conformance-stress" in start.argv[2]
    assert start.argv[2].startswith("nohup timeout -s KILL 1800 awk")


def test_cpu_near_limit_runs_one_loop_per_core(world: World) -> None:
    applied(world, "cpu-near-limit")
    [start] = world.executor.calls
    assert start.argv[2].count("while(1)") == 1


def test_stress_revert_kills_by_marker(world: World) -> None:
    injector = build(world, "memory-near-limit")
    inject(world.ctx, [injector], lambda: None)
    assert world.executor.calls[-1].argv == ("sh", "-c", "pkill -KILL -f '[a]lert-conformance-stress'; true")


def test_node_not_ready_stops_and_starts_the_kubelet(world: World) -> None:
    injector = build(world, "node-not-ready")
    seen: list[str] = []

    def hold() -> None:
        node = world.api.get(r.NODES, NODE_B)
        assert node is not None
        seen.append(node["status"]["conditions"][0]["status"])

    inject(world.ctx, [injector], hold)
    assert seen == ["Unknown"]
    assert world.agent.calls == [("stop", NODE_B), ("start", NODE_B)]


def test_fail_job_creates_a_failing_run_owned_by_the_cronjob(world: World) -> None:
    [(method, path, body)] = applied(world, "fail-job")
    assert (method, path) == ("POST", "/apis/batch/v1/namespaces/demo/jobs")
    assert body["spec"]["backoffLimit"] == 0
    assert body["spec"]["template"]["spec"]["containers"][0]["command"] == ["sh", "-c", "exit 1"]
    assert body["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert body["metadata"]["labels"][lb.CREATED_KEY] == "true"
    # The simulated cluster's failed run has this name too: the alert's job_name is the one depth 3 predicted.
    assert body["metadata"]["name"] == fault_job_name("nightly", "nightly", "failed")


def test_job_too_long_creates_a_sleeping_run_without_a_deadline(world: World) -> None:
    [(method, path, body)] = applied(world, "job-too-long")
    assert (method, path) == ("POST", "/apis/batch/v1/namespaces/demo/jobs")
    assert body["metadata"]["name"] == "nightly-running-by-alert-conformance"
    assert "activeDeadlineSeconds" not in body["spec"]
    [container] = body["spec"]["template"]["spec"]["containers"]
    assert container["command"][0] == "sleep" and int(container["command"][1]) >= 7 * 24 * 3600
    assert body["metadata"]["ownerReferences"][0]["kind"] == "CronJob"


def test_pv_failed_binds_its_own_claim_then_deletes_it_and_the_pv_turns_failed(world: World) -> None:
    seen: list[str] = []

    def hold() -> None:
        pv = world.api.get(r.PVS, "data-failed-pv-by-alert-conformance")
        assert pv is not None
        seen.append(pv["status"]["phase"])
        assert world.api.get(r.PVCS, "data-failed-pv-by-alert-conformance", NS) is None

    inject(world.ctx, [build(world, "pv-failed")], hold)
    assert seen == ["Failed"]
    [(_, _, pv)] = [c for c in writes(world) if c[1] == "/api/v1/persistentvolumes"]
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert not pv["spec"]["hostPath"]["path"].startswith("/tmp/")
    assert pv["spec"]["claimRef"] == {"namespace": NS, "name": "data-failed-pv-by-alert-conformance"}
    # The declared claim is never touched.
    assert not [c for c in writes(world) if c[1].endswith("/persistentvolumeclaims/data")]
    assert world.api.get(r.PVS, "data-failed-pv-by-alert-conformance") is None


def test_pv_failed_refuses_a_path_the_deleter_accepts(world: World) -> None:
    scenario = Scenario("p", "pv-failed", Target(namespace=NS, volume_claim="data"), {"host_path": "/tmp/x"})
    with pytest.raises(ValueError, match="under /tmp"):
        REGISTRY.get("pv-failed").build(scenario, world.placement.resolve(scenario), None)


def test_ksm_list_errors_takes_the_resource_out_of_the_cluster_role_and_puts_it_back(world: World) -> None:
    before = world.api.get(r.CLUSTERROLES, "alert-conformance-kube-state-metrics")
    assert before is not None
    seen: list[Any] = []

    def hold() -> None:
        role = world.api.get(r.CLUSTERROLES, "alert-conformance-kube-state-metrics")
        assert role is not None
        seen.append([rule["resources"] for rule in role["rules"]])

    inject(world.ctx, [build(world, "ksm-list-errors")], hold)
    assert seen == [[["nodes"], ["pods", "services"]]]
    after = world.api.get(r.CLUSTERROLES, "alert-conformance-kube-state-metrics")
    assert after is not None and after["rules"] == before["rules"]


def test_ksm_watch_errors_keeps_the_list_verb_in_a_rule_of_its_own(world: World) -> None:
    scenario = Scenario("k", "ksm-list-errors", Target(), {"resource": "pods", "denied": "watch"})
    injector = REGISTRY.get("ksm-list-errors").build(scenario, world.placement.resolve(scenario), None)
    seen: list[Any] = []

    def hold() -> None:
        role = world.api.get(r.CLUSTERROLES, "alert-conformance-kube-state-metrics")
        assert role is not None
        seen.append([(rule["resources"], rule["verbs"]) for rule in role["rules"]])

    inject(world.ctx, [injector], hold)
    assert seen == [
        [
            (["nodes"], ["list", "watch"]),
            (["leases"], ["list", "watch"]),
            (["services"], ["list", "watch"]),
            (["pods"], ["list"]),
        ]
    ]


def test_ksm_list_errors_on_a_resource_it_does_not_watch_is_one_clear_error(world: World) -> None:
    scenario = Scenario("k", "ksm-list-errors", Target(), {"resource": "secrets"})
    injector = REGISTRY.get("ksm-list-errors").build(scenario, world.placement.resolve(scenario), None)
    with pytest.raises(BackendError, match="grants nothing on secrets"):
        inject(world.ctx, [injector], lambda: None)


@pytest.mark.parametrize(
    ("fault", "path"),
    [
        ("error-rate", "/admin/set/error_ratio/0.1"),
        ("latency", "/admin/set/latency_seconds/2.5"),
        ("metric-rate-drop", "/admin/set/rate/pushes_total/0"),
        ("error-counter", "/admin/set/rate/pushes_total/1"),
        ("target-down", "/admin/set/target_down/1"),
    ],
)
def test_admin_faults_reach_every_pod_through_the_proxy(world: World, fault: str, path: str) -> None:
    inject(world.ctx, [build(world, fault)], lambda: None)
    assert world.admin == [(f"api-{i}", f"POST {path}") for i in range(3)] + [
        (f"api-{i}", "POST /admin/reset") for i in range(3)
    ]


def test_target_down_on_a_real_workload_uses_a_network_policy(world: World) -> None:
    from kube_world import ENVIRONMENT

    from conformance.kube.placement import Placement

    placement = Placement.for_cluster(ENVIRONMENT, allowed_namespaces=(NS,))
    scenario = Scenario("s", "target-down", Target(namespace=NS, workload="api"))
    injector = REGISTRY.get("target-down").build(scenario, placement.resolve(scenario), None)
    assert injector.target.standin is False
    inject(world.ctx, [injector], lambda: None)
    assert [(c.method, c.path) for c in world.api.writes] == [
        ("POST", "/apis/networking.k8s.io/v1/namespaces/demo/networkpolicies"),
        ("DELETE", "/apis/networking.k8s.io/v1/namespaces/demo/networkpolicies/alert-conformance-deny-api"),
    ]
    assert world.api.writes[0].body["spec"]["ingress"] == []


def test_skips(world: World) -> None:
    from kube_world import ENVIRONMENT

    from conformance.kube.placement import Placement

    flood = Scenario("s", "network-flood", Target(namespace=NS, workload="api"))
    assert "1 GB/s inside kind cannot be honest" in str(
        REGISTRY.get("network-flood").skip_reason("kind", world.placement.resolve(flood))
    )
    memory = Scenario("s", "node-memory-pressure", Target(node="node-a"))
    reason = REGISTRY.get("node-memory-pressure").skip_reason("kind", world.placement.resolve(memory))
    assert "host's memory" in str(reason)
    real = Placement.for_cluster(ENVIRONMENT, allowed_namespaces=(NS,))
    rate = Scenario("s", "error-rate", Target(namespace=NS, workload="api"))
    assert "no fault endpoint" in str(REGISTRY.get("error-rate").skip_reason("cluster", real.resolve(rate)))
    agent = Scenario("s", "cpu-near-limit", Target(namespace=NS, workload="agent", container="agent"))
    assert "no CPU limit" in str(REGISTRY.get("cpu-near-limit").skip_reason("kind", world.placement.resolve(agent)))


def test_a_second_fault_on_the_same_object_is_refused(world: World) -> None:
    first, second = build(world, "crash-loop"), build(world, "stuck-rollout")
    first.apply(world.ctx)
    with pytest.raises(BackendError, match=r"already carries a fault \(crash-loop\)"):
        second.apply(world.ctx)


Check = Callable[[World], None]


def _spec(world: World, resource: r.Resource, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = world.api.objects[(resource.group, resource.plural, NS, name)]["spec"]
    return spec


def test_hpa_maxed_lowers_max_replicas_to_the_replicas_running(world: World) -> None:
    replicas = world.api.objects[("apps", "deployments", NS, "api")]["spec"]["replicas"]
    inject(world.ctx, [build(world, "hpa-maxed")], lambda: None)
    assert [(c.method, c.path) for c in world.api.writes] == [
        ("PATCH", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/api"),
        ("PATCH", f"/apis/autoscaling/v2/namespaces/{NS}/horizontalpodautoscalers/api"),
    ]
    patch = world.api.writes[0].body
    assert patch["spec"] == {"maxReplicas": replicas}
    assert _spec(world, r.HPAS, "api")["maxReplicas"] == 6


def test_hpa_maxed_refuses_a_workload_at_its_minimum(world: World) -> None:
    world.api.objects[("autoscaling", "horizontalpodautoscalers", NS, "api")]["spec"]["minReplicas"] = 3
    with pytest.raises(BackendError, match="would equal minReplicas"):
        inject(world.ctx, [build(world, "hpa-maxed")], lambda: None)
    assert _spec(world, r.HPAS, "api")["maxReplicas"] == 6


def test_quota_usage_lowers_hard_to_the_level_of_what_is_used(world: World) -> None:
    held: list[dict[str, Any]] = []
    inject(world.ctx, [build(world, "quota-usage")], lambda: held.append(dict(_spec(world, r.RESOURCEQUOTAS, "team"))))
    # used 1Gi at 0.92: hard = floor(1073741824 / 0.92) bytes; the other resource is untouched
    assert held[0]["hard"] == {"requests.memory": str(1167110678), "requests.cpu": "4"}
    assert 1073741824 / 1167110678 >= 0.92
    assert _spec(world, r.RESOURCEQUOTAS, "team")["hard"] == {"requests.memory": "4Gi", "requests.cpu": "4"}


def test_quota_usage_fully_used_is_hard_equal_to_used_in_millicores(world: World) -> None:
    scenario = Scenario(
        id="q", fault="quota-usage", target=Target(namespace=NS, quota="team"), params={"resource": "requests.cpu"}
    )
    injector = REGISTRY.get("quota-usage").build(scenario, world.placement.resolve(scenario), 1.0)
    held: list[dict[str, Any]] = []
    inject(world.ctx, [injector], lambda: held.append(dict(_spec(world, r.RESOURCEQUOTAS, "team")["hard"])))
    assert held == [{"requests.memory": "4Gi", "requests.cpu": "900m"}]


def test_quota_usage_refuses_a_quota_the_controller_has_not_counted(world: World) -> None:
    del world.api.objects[("", "resourcequotas", NS, "team")]["status"]
    with pytest.raises(BackendError, match=r"reports no used requests\.memory yet"):
        inject(world.ctx, [build(world, "quota-usage")], lambda: None)


def test_pdb_unsatisfiable_replaces_max_unavailable_by_more_than_the_replicas(world: World) -> None:
    held: list[dict[str, Any]] = []
    inject(world.ctx, [build(world, "pdb-unsatisfiable")], lambda: held.append(dict(_spec(world, r.PDBS, "db"))))
    replicas = world.api.objects[("apps", "statefulsets", NS, "db")]["spec"]["replicas"]
    assert held[0]["minAvailable"] == replicas + 1
    assert "maxUnavailable" not in held[0]
    assert _spec(world, r.PDBS, "db") == {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "db"}},
        "maxUnavailable": 1,
    }


def test_policy_faults_are_skipped_without_their_object(world: World) -> None:
    for fault, target in (
        ("hpa-maxed", Target(namespace=NS, workload="db")),
        ("pdb-unsatisfiable", Target(namespace=NS, workload="api")),
    ):
        scenario = Scenario(id=fault, fault=fault, target=target)
        reason = REGISTRY.get(fault).skip_reason("kind", world.placement.resolve(scenario))
        assert reason is not None and "declared in the environment" in reason


def test_fill_node_filesystem_mounts_fills_and_unmounts_a_tmpfs(world: World) -> None:
    """The fill happens in the node's mount namespace on a tmpfs of its own (never the node's root filesystem):
    64 MiB, 4 % of it left available; the revert removes the file, unmounts and deletes the pod."""
    injector = prepare(world, "fill-node-filesystem")
    before = comparable(world)
    inject(world.ctx, [injector], lambda: None)
    pods = [c for c in world.api.calls if c.method == "POST" and c.path.endswith("/pods")]
    spec = pods[0].body["spec"]
    assert spec["nodeName"] == NODE_A and spec["hostPID"] is True
    assert spec["containers"][0]["securityContext"] == {"privileged": True}
    argvs = [" ".join(c.argv) for c in world.executor.calls]
    # Everything on the node's filesystem goes through its mount namespace; only the pkill runs in the pod.
    assert all(a.startswith("nsenter -t 1 -m -- ") for a in argvs if "pkill" not in a)
    assert "mount -t tmpfs -o size=67108864 tmpfs /mnt/alert-conformance-fill" in argvs[0]
    to_write = 65536 * 1024 - int(0.04 * 65536 * 1024)
    assert f"fallocate -l {to_write} /mnt/alert-conformance-fill/fill " in argvs[2]
    assert argvs[3] == "sh -c pkill -KILL -f '[a]lert-conformance-filler'; true"
    assert "umount /mnt/alert-conformance-fill" in argvs[4]
    assert_restored(world, before)


def test_fill_node_filesystem_refuses_a_level_above_what_is_available(world: World) -> None:
    injector = prepare(world, "fill-node-filesystem")
    injector = type(injector).build(Scenario("f", "fill-node-filesystem", Target(node="node-a")), injector.target, 1.0)
    world.executor.handler = node_answers
    with pytest.raises(BackendError, match=r"already has only 100\.0% available"):
        inject(world.ctx, [injector], lambda: None)


def test_clock_drift_sets_the_offset_in_a_loop_and_restores_what_it_read(world: World) -> None:
    """busybox adjtimex -o takes microseconds; the loop re-hands the kernel the level every second (the kernel
    slews an offset away); the revert stops it and hands back the 120 us it read."""
    injector = prepare(world, "clock-drift")
    before = comparable(world)
    inject(world.ctx, [injector], lambda: None)
    argvs = [" ".join(c.argv) for c in world.executor.calls]
    assert argvs[0] == "adjtimex"
    assert "echo 120 > " in argvs[1] and "adjtimex -q -o 60000; sleep 1" in argvs[1]
    assert "pkill -KILL -f '[a]lert-conformance-clock'" in argvs[2] and "adjtimex -q -o $(cat " in argvs[2]
    assert_restored(world, before)


def test_clock_drift_refuses_a_kernel_without_its_pll(world: World) -> None:
    injector = prepare(world, "clock-drift")
    unsynced = "-o  offset: 0 us\n    status: 64 (UNSYNC)\n"
    world.executor.handler = lambda call: ExecResult(0, unsynced if call.argv[0] == "adjtimex" else "")
    with pytest.raises(BackendError, match="not in PLL mode"):
        inject(world.ctx, [injector], lambda: None)
    assert not [k for k in world.api.objects if k[1] == "pods" and "clock" in k[3]]


def test_clock_drift_is_skipped_on_kind_and_unsynchronised_everywhere(world: World) -> None:
    injector = build(world, "clock-drift")
    assert "one kernel clock" in str(type(injector).skip_reason("kind", injector.target))
    assert type(injector).skip_reason("cluster", injector.target) is None
    unsynced = type(injector).build(
        Scenario("c", "clock-drift", Target(node="node-b"), params={"synchronised": "false"}), injector.target, None
    )
    assert "STA_UNSYNC" in str(unsynced.params_skip_reason("cluster"))
    assert injector.disruptive and injector.node_fault


def test_fill_node_filesystem_spreads_a_gradual_fill_in_chunks(world: World) -> None:
    """fill_s 120: four chunks 30 s apart (node-exporter is scraped every 30 s), in a background loop the
    revert kills before it removes the chunks and unmounts."""
    prepare(world, "fill-node-filesystem")
    scenario = Scenario("f", "fill-node-filesystem", Target(node="node-a"), params={"namespace": NS, "fill_s": 120})
    injector = REGISTRY.get("fill-node-filesystem").build(scenario, world.placement.resolve(scenario), 0.04)
    inject(world.ctx, [injector], lambda: None)
    argvs = [" ".join(c.argv) for c in world.executor.calls]
    to_write = 65536 * 1024 - int(0.04 * 65536 * 1024)
    chunk = to_write // 4
    assert "while [ $i -lt 4 ]" in argvs[2] and f"fallocate -l {chunk} /mnt/alert-conformance-fill/fill.$i" in argvs[2]
    assert f"fallocate -l {to_write - 3 * chunk} /mnt/alert-conformance-fill/fill.last" in argvs[2]
    assert "sleep 30;" in argvs[2] and argvs[2].startswith("nsenter -t 1 -m -- sh -c nohup timeout -s KILL 180 ")
    assert "[a]lert-conformance-filler" in argvs[3] and "alert-conformance-filler >/dev/null" in argvs[2]
    assert "rm -f /mnt/alert-conformance-fill/fill /mnt/alert-conformance-fill/fill.*" in argvs[4]
    pod = world.api.calls_to("POST", "/pods")[0].body
    assert pod["spec"]["containers"][0]["command"] == ["sleep", "1920"]  # the fill, then the maximum hold


def test_fill_node_filesystem_unmounts_through_a_new_pod_when_its_own_has_ended(world: World) -> None:
    """The tmpfs outlives the pod: a pod that ended (its maximum hold passed) is started again to unmount."""
    injector = prepare(world, "fill-node-filesystem")
    before = comparable(world)
    injector.apply(world.ctx)
    name = "alert-conformance-fill-" + NODE_A

    def ended(obj: dict[str, Any]) -> None:
        obj["status"] = {"phase": "Succeeded", "conditions": [{"type": "Ready", "status": "False"}]}

    world.api.update(r.PODS, name, NS, ended)
    injector.revert(world.ctx)
    assert len(world.api.calls_to("POST", "/pods")) == 2
    assert "umount /mnt/alert-conformance-fill" in " ".join(world.executor.calls[-1].argv)
    assert_restored(world, before)


def test_the_kill_pattern_spares_the_shell_that_runs_it() -> None:
    """``pkill -f`` matches whole command lines and spares only itself: with the bare marker it also killed the
    ``sh -c`` running it (exit 137, a failed revert). The bracket pattern matches the stress process's command
    line and not the revert's own."""
    from conformance_plugins._stress import MARKER, kill_argv, kill_pattern

    pattern = re.compile(kill_pattern(MARKER))
    assert pattern.search(f"timeout -s KILL 1800 awk BEGIN{{}} {MARKER}")
    assert not pattern.search(" ".join(kill_argv()))
