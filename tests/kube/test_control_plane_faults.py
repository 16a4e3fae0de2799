"""control-plane-down and kubelets-down against the fake API and a fake node agent: the static pod manifest moved
and back, every kubelet stopped and started, the marks a killed run leaves, and where each is skipped."""

from __future__ import annotations

import dataclasses

import pytest
from conformance_plugins.control_plane_down import COMPONENT_ANNOTATION, HEALTH_URLS
from conformance_plugins.registry import FaultRegistry
from kube_world import CLUSTER, NS, World

from conformance.kube import labels as lb
from conformance.kube import resources as r
from conformance.kube.faults import Injector
from conformance.kube.inject import inject
from conformance.kube.leftovers import clean_leftovers
from conformance.kube.planning import FaultStep, waves
from conformance.model.contract import AlertContract
from conformance.model.scenario import Scenario, Target

REGISTRY = FaultRegistry()
CONTROL_PLANE = f"{CLUSTER}-control-plane"


def injector(world: World, fault: str, target: Target) -> Injector:
    scenario = Scenario(id=fault, fault=fault, target=target)
    return REGISTRY.get(fault).build(scenario, world.placement.resolve(scenario), None)


def test_control_plane_down_parks_the_manifest_on_the_control_plane_node_and_waits_for_it_back(world: World) -> None:
    scheduler = injector(world, "control-plane-down", Target(component="kube-scheduler"))
    assert scheduler.target.node == CONTROL_PLANE
    seen: list[tuple[bool, str | None]] = []

    def hold() -> None:
        node = world.api.get(r.NODES, CONTROL_PLANE)
        assert node is not None
        running = world.agent.container_running(CONTROL_PLANE, "kube-scheduler")
        seen.append((running, node["metadata"]["annotations"].get(COMPONENT_ANNOTATION)))

    inject(world.ctx, [scheduler], hold)
    assert seen == [(False, "kube-scheduler")]
    assert world.agent.calls == [
        ("park", f"{CONTROL_PLANE}/kube-scheduler"),
        ("unpark", f"{CONTROL_PLANE}/kube-scheduler"),
        ("health", f"{CONTROL_PLANE} {HEALTH_URLS['kube-scheduler']}"),
    ]
    node = world.api.get(r.NODES, CONTROL_PLANE)
    assert node is not None and COMPONENT_ANNOTATION not in (node["metadata"].get("annotations") or {})
    assert scheduler.permissions()[0].namespace is None  # nothing in kube-system goes through the API


def test_the_revert_waits_until_the_component_answers_again(world: World) -> None:
    scheduler = injector(world, "control-plane-down", Target(component="kube-scheduler"))
    answers = iter([False, False, True])
    world.agent.healthy = lambda node, url: next(answers)  # type: ignore[method-assign]
    inject(world.ctx, [scheduler], lambda: None)
    assert next(answers, "used up") == "used up"


def test_a_killed_run_s_parked_manifest_is_moved_back_by_the_next_run(world: World) -> None:
    scheduler = injector(world, "control-plane-down", Target(component="kube-controller-manager"))
    scheduler.apply(dataclasses.replace(world.ctx, run_id="r-old"))  # that run is killed here: no revert
    assert (CONTROL_PLANE, "kube-controller-manager") in world.agent.parked
    done = clean_leftovers(world.ctx, [NS], REGISTRY.get)
    assert done == [f"moved kube-controller-manager.yaml back on node {CONTROL_PLANE}"]
    assert world.agent.parked == set()
    node = world.api.get(r.NODES, CONTROL_PLANE)
    assert node is not None and lb.FAULT_ANNOTATION not in (node["metadata"].get("annotations") or {})


def test_control_plane_down_is_skipped_where_it_cannot_be_honest(world: World) -> None:
    cls = REGISTRY.get("control-plane-down")
    scheduler = injector(world, "control-plane-down", Target(component="kube-scheduler")).target
    api = injector(world, "control-plane-down", Target(component="kube-apiserver")).target
    assert cls.skip_reason("kind", scheduler) is None
    assert "through the API server's proxy" in str(cls.skip_reason("kind", api))
    assert "managed control plane exposes none" in str(cls.skip_reason("cluster", scheduler))


def test_kubelets_down_stops_every_kubelet_and_starts_them_all_again(world: World) -> None:
    every = injector(world, "kubelets-down", Target())
    nodes = sorted(node["metadata"]["name"] for node in world.client.list(r.NODES))
    states: list[set[str]] = []

    def hold() -> None:
        states.append({n["status"]["conditions"][0]["status"] for n in world.client.list(r.NODES)})

    inject(world.ctx, [every], hold)
    assert states == [{"Unknown"}]
    assert [call for call in world.agent.calls if call[0] == "stop"] == [("stop", node) for node in nodes]
    assert [call for call in world.agent.calls if call[0] == "start"] == [("start", node) for node in nodes]
    assert {n["status"]["conditions"][0]["status"] for n in world.client.list(r.NODES)} == {"True"}
    assert "every Service loses its endpoints" in str(REGISTRY.get("kubelets-down").skip_reason("kind", every.target))
    assert "stopping every kubelet of a real cluster" in str(
        REGISTRY.get("kubelets-down").skip_reason("cluster", every.target)
    )


def test_kubelets_down_has_a_wave_of_its_own(world: World) -> None:
    alert = AlertContract.__new__(AlertContract)

    def step(fault: str, target: Target) -> FaultStep:
        made = injector(world, fault, target)
        return FaultStep(f"{fault}:{target.describe()}", alert, Scenario(fault, fault, target), None, made)

    first = step("target-down", Target(namespace=NS, workload="api"))
    every = step("kubelets-down", Target())
    other = step("cordon-node", Target(node="node-a"))
    assert [[s.run_id for s in wave] for wave in waves([first, every, other])] == [
        [first.run_id, other.run_id],
        [every.run_id],
    ]


@pytest.mark.parametrize("component", ["kube-scheduler", "kube-controller-manager"])
def test_a_component_down_has_a_wave_of_its_own(world: World, component: str) -> None:
    """No pod is scheduled without a scheduler, no controller acts without the controller manager: every other
    scenario would change; and two components down would change each other's discovery."""
    alert = AlertContract.__new__(AlertContract)
    steps = [
        FaultStep(name, alert, Scenario(name, "control-plane-down", Target(component=name)), None, made)
        for name in ("kube-scheduler", component)
        for made in [injector(world, "control-plane-down", Target(component=name))]
    ]
    workload = Scenario("t", "target-down", Target(namespace=NS, workload="api"))
    steps.append(FaultStep("t", alert, workload, None, injector(world, "target-down", workload.target)))
    assert [len(wave) for wave in waves(steps)] == [1, 1, 1]


def test_kind_binds_and_scrapes_only_the_components_a_fault_takes_down() -> None:
    """kubeadm binds the scheduler and controller manager to loopback: a layout that takes one down binds it to
    0.0.0.0 in both kubeadm config forms kind may generate, and the chart's ServiceMonitor for it is enabled."""
    import yaml

    from conformance.kube.layout import KindLayout
    from conformance.kube.stack import stack_values
    from conformance.profiles import load_profile

    profile = load_profile("kube-prometheus")
    layout = KindLayout.for_environment(
        profile.environment, "ac", (), {"kube-scheduler", "kube-apiserver", "kube-controller-manager"}
    )
    assert layout.components == ("kube-controller-manager", "kube-scheduler")
    patches = [yaml.safe_load(text) for text in layout.config()["kubeadmConfigPatches"]]
    assert [p["apiVersion"] for p in patches] == ["kubeadm.k8s.io/v1beta3", "kubeadm.k8s.io/v1beta4"]
    assert patches[0]["scheduler"] == {"extraArgs": {"bind-address": "0.0.0.0"}}
    assert patches[1]["controllerManager"] == {"extraArgs": [{"name": "bind-address", "value": "0.0.0.0"}]}
    assert "kubeadmConfigPatches" not in KindLayout.for_environment(profile.environment, "ac", ()).config()
    from conformance.packs.loader import load_pack

    pack = load_pack(profile.pack_path)
    values = stack_values(profile, pack, "monitoring", layout.components)
    assert values["kubeScheduler"] == values["kubeControllerManager"] == {"enabled": True}
    assert stack_values(profile, pack, "monitoring")["kubeScheduler"] == {"enabled": False}
