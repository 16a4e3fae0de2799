"""The backends' safety, preflight, leftovers, kind lifecycle and plan, against the fake API and FakeRunner."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from conformance_plugins.registry import FaultRegistry
from kube_world import ENVIRONMENT, NODE_A, NS, World, cluster_backend, ready_on_create

from conformance.errors import BackendError, SafetyError, ToolNotFoundError
from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.backend import KubeBackend
from conformance.kube.client import KubeClient
from conformance.kube.faults import Permission
from conformance.kube.kind import KindCluster, should_delete
from conformance.kube.layout import ROLE_LABEL
from conformance.kube.leftovers import clean_leftovers
from conformance.kube.placement import Placement
from conformance.kube.planning import plan_run, render_plan
from conformance.kube.preflight import preflight
from conformance.kube.safety import check_namespace
from conformance.model.profile import Profile
from conformance.model.workloads import Environment, NodeSpec
from conformance.options import Options
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.plan import print_plan
from conformance.profiles import load_profile
from conformance.session import ConformanceSession
from conformance.testing import objects as ko
from conformance.testing.doubles import FakeRunner
from conformance.testing.fake_api import FakeKubeApi
from conformance.tools import CommandResult
from conformance.versions import CHART_VERSION

REGISTRY = FaultRegistry()


@pytest.fixture(scope="module")
def runai() -> tuple[Profile, Pack]:
    profile = load_profile("runai")
    return profile, load_pack(profile.pack_path)


# -- existing cluster: safety before anything ------------------------------------------------------------------


def test_cluster_refuses_without_allow_disruption_before_any_call(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    backend = cluster_backend(fake_kube_api, tmp_path, runai)
    with pytest.raises(SafetyError) as info:
        backend.prepare()
    message = str(info.value)
    assert message.startswith("refusing to run:") and "nothing was touched" in message
    assert "--allow-disruption is not given" in message
    assert "cordon-node" in message and "--allow-nodes is not given" in message
    assert fake_kube_api.calls == []  # not even a read: the refusal needs no cluster


def test_cluster_lists_every_refused_fault_at_once(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    backend = cluster_backend(fake_kube_api, tmp_path, runai, allow_disruption=True)
    refused = backend.plan.refused
    node_faults = [s for s in backend.plan.steps if s.injector and s.injector.node_fault and s.skip is None]
    assert len(refused) == len(node_faults) > 1
    assert all("--allow-nodes" in line and "--allow-disruption" not in line for line in refused)


def test_admin_only_faults_need_no_disruption_allowance(runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    plan = plan_run(Options(profile="runai", backend="cluster"), profile, pack, REGISTRY)
    rate_drops = [line for line in plan.refused if "metric-rate-drop" in line]
    assert rate_drops == []


def test_kube_system_is_never_touched_even_when_allowed() -> None:
    env = Environment(nodes=(NodeSpec("n"),), namespaces=("kube-system", "app"))
    placement = Placement.for_cluster(env, allowed_namespaces=("kube-system", "app"))
    assert placement.namespace("kube-system") == "alert-conformance-kube-system"
    assert placement.namespace("app") == "app"
    with pytest.raises(SafetyError, match="kube-system is never touched"):
        check_namespace("kube-system")


def test_cluster_preflight_lists_every_missing_permission_and_writes_nothing(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    fake_kube_api.add(ko.node("real-worker-1"))
    fake_kube_api.deny(verb="patch", resource="nodes")
    fake_kube_api.deny(verb="create", resource="namespaces")
    fake_kube_api.deny(verb="create", subresource="exec")
    backend = cluster_backend(fake_kube_api, tmp_path, runai, allow_disruption=True, allow_nodes=True)
    with pytest.raises(SafetyError) as info:
        backend.prepare()
    message = str(info.value)
    assert "patch nodes (cluster-wide)" in message
    assert "create namespaces (cluster-wide)" in message
    assert "create pods/exec in namespace alert-conformance-runai" in message
    assert message.count("\n  ") >= 3
    assert fake_kube_api.writes == []


def test_preflight_passes_when_everything_is_allowed(kube_client: KubeClient) -> None:
    preflight(kube_client, [Permission("patch", "nodes"), Permission("get", "pods", "", "x")])


def test_cluster_run_deploys_only_into_its_namespaces_with_a_continue_route(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    api = fake_kube_api
    api.add(ko.node("real-worker-1"))
    api.add(ko.namespace("kube-system"))
    api.add(ko.alertmanager(alertmanagerConfigSelector=ko.selecting(team="platform")))

    api.reactors.append(ready_on_create)
    backend = cluster_backend(api, tmp_path, runai, allow_disruption=True, allow_nodes=True)
    backend.prepare()
    written = {call.path.split("/namespaces/")[1].split("/")[0] for call in api.writes if "/namespaces/" in call.path}
    assert written <= {"alert-conformance-runai", "alert-conformance-runai-backend", "alert-conformance-monitoring"}
    assert not [c for c in api.calls if "kube-system" in c.path]
    routes = api.items(r.ALERTMANAGERCONFIGS)
    assert {route["metadata"]["namespace"] for route in routes} == written
    for route in routes:
        assert route["spec"]["route"]["continue"] is True
        assert route["metadata"]["labels"]["team"] == "platform"
    assert api.items(r.PROMETHEUSRULES) == []  # no --alert-pack: the cluster's own rules are certified


# -- leftovers ---------------------------------------------------------------------------------------------


def test_leftovers_of_a_killed_run_are_restored_or_deleted(world: World) -> None:
    old = dataclasses.replace(world.ctx, run_id="r-old")
    cordon = REGISTRY.get("cordon-node")
    fail = REGISTRY.get("fail-job")
    placement = world.placement
    from conformance.model.scenario import Scenario, Target

    cordon_scenario = Scenario("c", "cordon-node", Target(node="node-a"))
    job_scenario = Scenario("j", "fail-job", Target(namespace=NS, job="nightly"))
    cordon.build(cordon_scenario, placement.resolve(cordon_scenario), None).apply(old)
    fail.build(job_scenario, placement.resolve(job_scenario), None).apply(old)
    current = REGISTRY.get("crash-loop")
    crash_scenario = Scenario("x", "crash-loop", Target(namespace=NS, workload="api", container="app"))
    current.build(crash_scenario, placement.resolve(crash_scenario), 3).apply(world.ctx)  # this run's: kept

    done = clean_leftovers(world.ctx, [NS], REGISTRY.get)
    assert sorted(done) == ["deleted Job demo/nightly-failed-by-alert-conformance", f"restored Node {NODE_A}"]
    node = world.api.get(r.NODES, NODE_A)
    assert node is not None and "unschedulable" not in node["spec"]
    assert lb.MANAGED_BY_KEY not in node["metadata"]["labels"]
    deployment = world.api.get(r.DEPLOYMENTS, "api", NS)
    assert deployment is not None and deployment["metadata"]["annotations"][lb.FAULT_ANNOTATION] == "crash-loop"


def test_leftover_pv_and_cluster_role_of_a_killed_run_are_deleted_and_restored(world: World) -> None:
    from conformance.model.scenario import Scenario, Target

    old = dataclasses.replace(world.ctx, run_id="r-old")
    pv_scenario = Scenario("p", "pv-failed", Target(namespace=NS, volume_claim="data"))
    ksm_scenario = Scenario("k", "ksm-list-errors", Target(), {"resource": "leases"})
    for scenario in (pv_scenario, ksm_scenario):
        injector = REGISTRY.get(scenario.fault).build(scenario, world.placement.resolve(scenario), None)
        injector.apply(old)
    done = clean_leftovers(world.ctx, [NS], REGISTRY.get)
    assert sorted(done) == [
        "deleted PersistentVolume data-failed-pv-by-alert-conformance",
        "restored ClusterRole alert-conformance-kube-state-metrics",
    ]
    role = world.api.get(r.CLUSTERROLES, "alert-conformance-kube-state-metrics")
    assert role is not None and ["leases"] in [rule["resources"] for rule in role["rules"]]


def test_an_identity_that_may_not_list_pvs_or_cluster_roles_still_cleans_the_rest(world: World) -> None:
    world.api.fail("GET", "/persistentvolumes", 403)
    world.api.fail("GET", "/clusterroles", 403)
    assert clean_leftovers(world.ctx, [NS], REGISTRY.get) == []
    assert world.api.failures == [], "both lists were asked for and refused"


def test_leftover_cleanup_never_looks_into_kube_system(world: World) -> None:
    clean_leftovers(world.ctx, [NS, "kube-system"], REGISTRY.get)
    assert not [c for c in world.api.calls if "kube-system" in c.path]


# -- kind lifecycle ----------------------------------------------------------------------------------------


def kind_runner(existing: Sequence[str]) -> FakeRunner:
    def answer(argv: Sequence[str]) -> CommandResult:
        if list(argv[1:3]) == ["get", "clusters"]:
            return CommandResult(tuple(argv), 0, "\n".join(existing) + "\n", "")
        if list(argv[1:3]) == ["get", "kubeconfig"]:
            return CommandResult(tuple(argv), 0, "apiVersion: v1\n", "")
        return CommandResult(tuple(argv), 0, "", "")

    return FakeRunner(answer)


def test_kind_reuses_an_existing_cluster(tmp_path: Path) -> None:
    runner = kind_runner(["other", "ac"])
    cluster = KindCluster("ac", Path("/bin/kind"), Path("/bin/docker"), runner)
    assert cluster.ensure() == "reused"
    assert runner.calls == [("/bin/kind", "get", "clusters")]
    assert "kept kind cluster ac (it was reused" in cluster.finish("never", failed=False)
    assert runner.calls[-1] == ("/bin/kind", "get", "clusters")


def test_kind_creates_from_the_layout_written_into_the_work_folder(tmp_path: Path) -> None:
    layout = Placement.for_kind(ENVIRONMENT, "ac", fault_nodes=("node-b",)).layout
    assert layout is not None
    runner = kind_runner(["other"])
    cluster = KindCluster("ac", Path("/bin/kind"), Path("/bin/docker"), runner)
    assert cluster.ensure(layout.write_config(tmp_path)) == "created"
    create = runner.calls[1]
    assert create[:5] == ("/bin/kind", "create", "cluster", "--name", "ac")
    config = Path(create[create.index("--config") + 1])
    assert config == tmp_path / "kind-cluster.yaml"
    nodes = yaml.safe_load(config.read_text())["nodes"]
    # a control plane, the workloads worker, the monitoring worker and one worker for node-b's faults
    assert nodes == [
        {"role": "control-plane"},
        {"role": "worker", "labels": {ROLE_LABEL: "workloads"}},
        {"role": "worker", "labels": {ROLE_LABEL: "monitoring"}},
        {"role": "worker", "labels": {ROLE_LABEL: "node-faults"}},
    ]


def test_kind_without_a_config_creates_nothing_and_says_so_in_one_line() -> None:
    runner = kind_runner([])
    cluster = KindCluster("ac", Path("/bin/kind"), Path("/bin/docker"), runner)
    with pytest.raises(BackendError, match="no cluster config was given") as info:
        cluster.ensure()
    assert "\n" not in str(info.value) and runner.calls == [("/bin/kind", "get", "clusters")]


@pytest.mark.parametrize(
    ("keep", "failed", "deleted"),
    [
        ("never", False, True),
        ("never", True, True),
        ("on-failure", False, True),
        ("on-failure", True, False),
        ("always", False, False),
        ("always", True, False),
    ],
)
def test_kind_keep_cluster_policy(keep: Any, failed: bool, deleted: bool) -> None:
    runner = kind_runner([])
    cluster = KindCluster("ac", Path("/bin/kind"), Path("/bin/docker"), runner)
    cluster.ensure(Path("kind-cluster.yaml"))
    cluster.finish(keep, failed=failed)
    assert (("/bin/kind", "delete", "cluster", "--name", "ac") in runner.calls) is deleted
    assert should_delete(keep, failed=failed, created=False) is False


def test_missing_kind_stops_the_run_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runai: tuple[Profile, Pack]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("ALERT_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    for var in ("KIND", "HELM", "DOCKER"):
        monkeypatch.delenv(var, raising=False)
    profile, pack = runai
    runner = kind_runner([])
    backend = KubeBackend(
        Options(profile="runai", backend="kind"), profile, pack, REGISTRY, runner=runner, workdir=tmp_path
    )
    with pytest.raises(ToolNotFoundError) as info:
        backend.prepare()
    assert "\n" not in str(info.value) and str(info.value).startswith("kind not found")
    assert runner.calls == []


def test_kind_node_agent_uses_docker_exec() -> None:
    from conformance.kube.kind import DockerNodeAgent

    runner = kind_runner([])
    agent = DockerNodeAgent(Path("/bin/docker"), runner)
    agent.stop_kubelet("ac-worker", hold_s=60)
    agent.start_kubelet("ac-worker")
    assert runner.calls == [
        ("/bin/docker", "exec", "ac-worker", "systemctl", "stop", "kubelet"),
        ("/bin/docker", "exec", "ac-worker", "systemctl", "start", "kubelet"),
    ]


# -- the plan ----------------------------------------------------------------------------------------------


def test_runai_kind_plan_shows_every_change_and_touches_nothing(
    runai: tuple[Profile, Pack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no binaries at all
    monkeypatch.setenv("ALERT_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PROMTOOL", raising=False)
    profile, pack = runai
    lines: list[str] = []
    session = ConformanceSession(Options(profile="runai", backend="kind"), profile, pack, tmp_path / "work")
    print_plan(session, write=lines.append)
    text = "\n".join(lines)
    assert f"kube-prometheus-stack --version {CHART_VERSION}" in text
    assert "kind create cluster --config <work folder>/kind-cluster.yaml" in text
    assert "create Deployment runai/cluster-sync" in text
    scenarios = sum(len(a.scenarios) for a in profile.alerts)
    # high availability: every alert once more with an Alertmanager peer lost while pending, in waves of its own
    repeats = len({alert.key for alert in profile.alerts})
    assert text.count("    fault:  ") + text.count("    SKIP: ") == scenarios + repeats
    steps = re.findall(r"^  \S+\+alertmanager-webhook-peer-lost-while-pending( at level \S+)?$", text, re.M)
    assert len(steps) == repeats
    losses = [
        "a Prometheus replica lost while the alert is pending: delete the first pod labelled "
        "app.kubernetes.io/name=prometheus in monitoring (grace 0s)",
        "an Alertmanager peer of webhook lost while the alert is pending: delete the first pod labelled "
        "app.kubernetes.io/name=alertmanager",
        "an Alertmanager peer of webhook lost just after it notified: delete the first pod labelled "
        "app.kubernetes.io/name=alertmanager",
    ]
    for loss in losses:
        assert loss in text
    assert text.count("    fault:  ") + len(losses) == text.count("    revert: ")
    assert "cordon node alert-conformance-worker5" in text
    # seed 004's lost system worker gathers the Run:ai stand-ins only in the twin: on kind it is skipped, saying why
    assert (
        "system-worker-1 gathers workloads by node_selector (cluster-sync, runai-agent, project-controller, ...); "
        in (text)
    )
    # without promtool there are no depth-3 predictions: the plan says so instead of guessing a duration
    assert "Estimated duration: not estimated: it needs depth 3's predictions (promtool not found" in text


def test_cluster_plan_shows_refusals_and_permissions(runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    plan = plan_run(Options(profile="runai", backend="cluster"), profile, pack, REGISTRY)
    text = "\n".join(render_plan(plan))
    assert "REFUSED: the run would stop before touching anything" in text
    assert "Permissions checked by the preflight:" in text
    assert "runai -> alert-conformance-runai" in text
    assert "  gpu-node-1 -> <worker node #3>" in text
