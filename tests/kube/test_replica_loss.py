"""High availability on kind: a replica of the stack lost as a real action (its pod deleted at once) and its
revert (the StatefulSet ready again), against the fake API; the KubeBackend loses replicas through the engine
and brings them back after the wave."""

from __future__ import annotations

from typing import Any, cast

import pytest
from kube_world import World

import conformance.testing.objects as ko
from conformance.errors import ConformanceError
from conformance.kube import resources as r
from conformance.kube.client import WaitTimeoutError
from conformance.kube.driver import KubeFaults
from conformance.kube.replica_loss import ReplicaKiller
from conformance.kube.resources import Resource
from conformance.model.run import ReplicaLoss
from conformance.observe.watch import RunWatch
from conformance.testing.fake_api import FakeKubeApi

MON = "monitoring"
PROMETHEUS_LOSS = ReplicaLoss("prometheus", "pending")
PEER_LOSS = ReplicaLoss("alertmanager", "notified", "webhook")
#: The run a loss happens in: the Kubernetes backend loses the stack's replica whichever run it is.
WATCH = cast(RunWatch, object())


def _stack(api: FakeKubeApi) -> None:
    """Two Prometheus and two Alertmanager pods as the operator runs them, each owned by its StatefulSet."""
    api.add(ko.namespace(MON))
    for component, statefulset in (("prometheus", "prometheus-k8s"), ("alertmanager", "alertmanager-main")):
        api.add(ko.workload("StatefulSet", statefulset, MON, replicas=2))
        for ordinal in (1, 0):  # listed out of order: the first by name is lost
            pod = ko.pod(f"{statefulset}-{ordinal}", MON, {"app.kubernetes.io/name": component})
            pod["metadata"]["ownerReferences"] = [{"kind": "StatefulSet", "name": statefulset}]
            api.add(pod)


def _statefulset_controller(recreates: bool) -> Any:
    """A deleted pod makes its StatefulSet lose a ready replica; with ``recreates``, it is back at once."""

    def react(api: FakeKubeApi, event: str, resource: Resource, obj: dict[str, Any]) -> None:
        if event != "delete" or resource is not r.PODS:
            return
        owner = obj["metadata"]["ownerReferences"][0]["name"]
        if recreates:
            api.add(obj)
            return

        def lose_one(statefulset: dict[str, Any]) -> None:
            statefulset["status"]["readyReplicas"] -= 1
            statefulset["status"]["availableReplicas"] -= 1

        api.update(r.STATEFULSETS, owner, MON, lose_one)

    return react


def test_a_prometheus_replica_is_lost_by_deleting_its_first_pod_at_once(world: World) -> None:
    _stack(world.api)
    world.api.reactors.append(_statefulset_controller(recreates=True))
    killer = ReplicaKiller(MON)
    assert killer.lose(world.ctx, PROMETHEUS_LOSS) == "prometheus-k8s-0"
    (delete,) = world.api.calls_to("DELETE", "/pods/")
    assert delete.path.endswith(f"/namespaces/{MON}/pods/prometheus-k8s-0")
    assert delete.body["gracePeriodSeconds"] == 0
    assert killer.lost == {"prometheus-k8s": "prometheus-k8s-0"}
    killer.restore(world.ctx)  # the StatefulSet has both replicas again: nothing left to wait for
    assert killer.lost == {}


def test_a_replica_that_does_not_come_back_fails_the_revert_after_its_deadline(world: World) -> None:
    _stack(world.api)
    world.api.reactors.append(_statefulset_controller(recreates=False))
    killer = ReplicaKiller(MON)
    assert killer.lose(world.ctx, PEER_LOSS) == "alertmanager-main-0"
    with pytest.raises(WaitTimeoutError, match="StatefulSet monitoring/alertmanager-main to be ready"):
        killer.restore(world.ctx)
    assert killer.lost == {}  # waited for once: the next wave is not held by it


def test_one_replica_left_cannot_be_lost(world: World) -> None:
    _stack(world.api)
    world.ctx.client.delete(r.PODS, "prometheus-k8s-1", MON)
    with pytest.raises(ConformanceError, match=r"1 prometheus pod.* losing one needs at least two replicas"):
        ReplicaKiller(MON).lose(world.ctx, PROMETHEUS_LOSS)


def test_kube_faults_lose_through_the_killer_and_refuse_without_one(world: World) -> None:
    _stack(world.api)
    world.api.reactors.append(_statefulset_controller(recreates=True))
    with pytest.raises(ConformanceError, match="not the suite's to lose"):
        KubeFaults(world.ctx, {}).lose(PROMETHEUS_LOSS, WATCH)
    faults = KubeFaults(world.ctx, {}, ReplicaKiller(MON))
    assert faults.lose(PEER_LOSS, WATCH) == "alertmanager-main-0"
    faults.restore_replicas()
