"""A whole ``KubeBackend.run()`` against the fake API, whose proxy handlers play Prometheus, Alertmanager and the
capture webhook over time, driven by the state the faults really put the nodes in."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conformance_plugins.registry import FaultRegistry
from kube_world import CLUSTER, FAST, RUN_ID, World, cluster_backend, exec_answers, ready_on_create

from conformance.kube import resources as r
from conformance.kube.backend import KubeBackend
from conformance.kube.driver import translate_labels
from conformance.kube.kind import KindCluster
from conformance.kube.sources import ClusterSources, Endpoint, find_sources, rule_selection
from conformance.model.prediction import Prediction
from conformance.model.profile import Profile
from conformance.model.run import Observation, ScenarioRun
from conformance.observe.backend import LiveOutcome
from conformance.observe.expectations import expectation_for, pack_setup_for
from conformance.observe.verdict import judge
from conformance.options import Options
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack
from conformance.profiles import load_profile
from conformance.routing.capture import capture_path
from conformance.testing import objects as ko
from conformance.testing.doubles import FakeExecutor, FakeRunner
from conformance.testing.fake_api import FakeKubeApi
from conformance.tools import CommandResult

REGISTRY = FaultRegistry()
ALERT = "RunaiNodeUnknownState"
#: the kind workers of the runai layout that play the declared nodes these runs target
GPU_NODE_1 = f"{CLUSTER}-worker3"
GPU_NODE_3 = f"{CLUSTER}-worker4"
WEBHOOK = "webhook/webhook-notifications"
EMAIL = "email/email"


@pytest.fixture(scope="module")
def runai() -> tuple[Profile, Pack]:
    profile = load_profile("runai")
    return profile, load_pack(profile.pack_path)


class PlayedStack:
    """Prometheus, Alertmanager and the capture webhook, played from the nodes in the fake API.

    A node not Ready (or cordoned) makes ``RunaiNodeUnknownState{node=...}`` pending, then firing after
    ``pending_s[node]``; ``group_wait_s`` after it fires, Alertmanager notifies both receivers (one notification
    per node, so times differ per run); once the node is healthy again the alert disappears and the webhook
    receiver gets a resolved notification (the email receiver does not send resolved).
    """

    def __init__(
        self, world: World, profile: Profile, pack: Pack, pending_s: dict[str, float], group_wait_s: float = 0.1
    ) -> None:
        self.api, self.pending_s, self.group_wait_s = world.api, pending_s, group_wait_s
        self.lock = threading.Lock()
        self.since: dict[str, float] = {}
        self.firing: set[str] = set()
        self.entries: list[dict[str, Any]] = []
        self.paths = {}
        for documented in profile.routing:
            setup = pack_setup_for(pack, profile, documented.name)
            assert setup is not None
            generated = setup.generated_name(documented.receiver)
            self.paths[documented.name] = capture_path(setup.name, generated)
        self.reads = {"prometheus": 0, "alertmanager": 0, "capture": 0}
        for kind in ("Prometheus", "Alertmanager"):
            self.api.add(
                {
                    "apiVersion": "monitoring.coreos.com/v1",
                    "kind": kind,
                    "metadata": {"name": "stack", "namespace": "monitoring"},
                    "spec": {},
                }
            )
        self.api.on_proxy("services", "monitoring", "prometheus-operated", 9090, self.prometheus)
        self.api.on_proxy("services", "monitoring", "alertmanager-operated", 9093, self.alertmanager)
        self.api.on_proxy("services", "monitoring", "alert-conformance-capture", 8080, self.capture)

    def labels(self, node: str) -> dict[str, str]:
        return {"alertname": ALERT, "severity": "critical", "node": node, "instance": "10.0.0.1:8080"}

    def unhealthy(self) -> set[str]:
        bad = set()
        for node in self.api.items(r.NODES):
            ready = [c for c in node.get("status", {}).get("conditions", []) if c["type"] == "Ready"]
            if (ready and ready[0]["status"] != "True") or node.get("spec", {}).get("unschedulable"):
                bad.add(node["metadata"]["name"])
        return bad

    def post(self, receiver: str, status: str, node: str) -> None:
        alert = {
            "status": status,
            "labels": self.labels(node),
            "annotations": {},
            "startsAt": "2024-01-01T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }
        payload = {
            "version": "4",
            "groupKey": f'{{}}:{{node="{node}"}}',
            "status": status,
            "receiver": receiver,
            "groupLabels": {"node": node},
            "commonLabels": self.labels(node),
            "commonAnnotations": {},
            "externalURL": "http://am",
            "alerts": [alert],
        }
        path = self.paths[receiver.split("/", maxsplit=1)[0]]
        self.entries.append({"at": time.time(), "path": path, "payload": payload})

    def tick(self) -> dict[str, str]:
        """Advance the played stack to now; the state of every alerting node."""
        now = time.time()
        with self.lock:
            bad = self.unhealthy()
            for node in bad:
                self.since.setdefault(node, now)
            states = {}
            for node in list(self.since):
                if node not in bad:
                    del self.since[node]
                    if node in self.firing:
                        self.firing.discard(node)
                        self.post(WEBHOOK, "resolved", node)
                    continue
                if node not in self.pending_s:
                    continue  # this stack never alerts on it
                firing = now - self.since[node] >= self.pending_s[node]
                states[node] = "firing" if firing else "pending"
                notify = now - self.since[node] >= self.pending_s[node] + self.group_wait_s
                if notify and node not in self.firing:
                    self.firing.add(node)
                    self.post(WEBHOOK, "firing", node)
                    self.post(EMAIL, "firing", node)
            return states

    def prometheus(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        self.reads["prometheus"] += 1
        assert path == "/api/v1/alerts"
        alerts = [{"labels": self.labels(n), "state": s} for n, s in self.tick().items()]
        return 200, json.dumps({"status": "success", "data": {"alerts": alerts}}).encode()

    def alertmanager(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        self.reads["alertmanager"] += 1
        alerts = [
            {"labels": self.labels(n), "status": {"state": "active"}, "receivers": [{"name": "webhook-notifications"}]}
            for n, s in self.tick().items()
            if s == "firing"
        ]
        return 200, json.dumps(alerts).encode()

    def capture(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        self.reads["capture"] += 1
        assert path.startswith("/captured?since=")
        since = int(path.split("since=")[1])
        self.tick()
        with self.lock:
            return 200, json.dumps({"entries": self.entries[since:], "next": len(self.entries)}).encode()


def scenario_run(
    profile: Profile, scenario_id: str, node: str, fire_s: float | None, revert_s: float = 0.3
) -> ScenarioRun:
    alert = next(a for a in profile.alerts if a.name == ALERT)
    scenario = next(s for s in alert.scenarios if s.id == scenario_id)
    prediction = Prediction(
        alert.key,
        ALERT,
        scenario_id,
        None,
        hold_s=revert_s,
        fire_after_s=fire_s,
        revert_after_s=revert_s,
        resolved_after_s=None if fire_s is None else revert_s + 0.1,
        labels=({"alertname": ALERT, "severity": "critical", "node": node, "instance": "10.0.0.13:9100"},),
        evaluation_interval_s=0.1,
        scrape_interval_s=0.1,
    )
    return ScenarioRun(alert, scenario, None, prediction)


def backend_for(world: World, tmp_path: Path, runai: tuple[Profile, Pack], **options: Any) -> KubeBackend:
    profile, pack = runai
    backend = KubeBackend(
        Options(profile="runai", backend="kind", cluster_name=CLUSTER, **options),
        profile,
        pack,
        REGISTRY,
        timeouts=FAST,
        run_id=RUN_ID,
        workdir=tmp_path,
        poll_s=0.02,
        healthy_s=0.1,
    )
    backend.ctx = world.ctx  # prepared: the stack is the played one
    return backend


def all_ready(world: World) -> bool:
    return all(
        c["status"] == "True"
        for n in world.api.items(r.NODES)
        for c in n["status"]["conditions"]
        if c["type"] == "Ready"
    ) and not any(n.get("spec", {}).get("unschedulable") for n in world.api.items(r.NODES))


def observed(outcome: LiveOutcome) -> list[Observation]:
    return [result.observation for result in outcome.results]


def events(observation: Observation) -> list[str]:
    return [text for _, text in sorted(observation.timeline)]


# -- a whole run -----------------------------------------------------------------------------------------------


def test_run_observes_pending_firing_notified_reverted_resolved_and_attributes_by_labels(
    world: World, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    profile, pack = runai
    # gpu-node-1 and gpu-node-3 each have a kind worker of their own; the same alert fires for both, at different
    # times (a stopped kubelet, a cordon).
    stack = PlayedStack(world, profile, pack, {GPU_NODE_1: 0.15, GPU_NODE_3: 0.6})
    runs = [
        scenario_run(profile, "ready-unknown", "gpu-node-1", 0.15),
        scenario_run(profile, "unschedulable", "gpu-node-3", 0.6),
    ]
    backend = backend_for(world, tmp_path, runai)
    lines: list[str] = []
    started = time.monotonic()
    first, second = observed(backend.run(runs, status=lines.append))
    assert time.monotonic() - started < 10
    assert min(stack.reads.values()) > 0

    for observation, node in ((first, GPU_NODE_1), (second, GPU_NODE_3)):
        assert observation.fault_applied and observation.error is None
        assert observation.pending_s is not None and observation.firing_s is not None
        assert observation.notified_s is not None and observation.reverted_s is not None
        assert 0 <= observation.pending_s <= observation.firing_s <= observation.notified_s + 0.05
        assert sorted(observation.receivers) == [EMAIL, WEBHOOK]
        # attributed by the predicted node (translated to the kind node), not by the shared alert name
        assert {a["labels"]["node"] for n in observation.notifications for a in n.alerts} == {node}
        order = events(observation)
        for word in (
            "pending",
            "firing",
            f"notified {WEBHOOK}",
            f"notified {EMAIL}",
            "reverted",
            "resolved",
            f"resolved notified {WEBHOOK}",
        ):
            assert word in order, (word, order)
        assert order.index("pending") < order.index("firing") < order.index("reverted") < order.index("resolved")
        assert observation.resolved_notified_s is not None
        assert observation.resolved_notified_s >= observation.reverted_s
    # the second node's alert fired later: a match by alert name would have given it the first one's times
    assert second.firing_s is not None and first.firing_s is not None and second.firing_s >= 0.6 > first.firing_s
    assert second.notified_s is not None and second.notified_s >= 0.6
    # the two faults went in together (different nodes: one wave) and were reverted
    assert all_ready(world) and world.agent.calls == [("stop", GPU_NODE_1), ("start", GPU_NODE_1)]
    # the live verdict judges these observations as it judges the twin's
    for run, observation in zip(runs, (first, second), strict=True):
        verdict = judge(expectation_for(run, profile, pack, 1.0), observation)
        assert verdict.outcome == "pass", verdict.message()


def test_healthy_period_alerts_are_negative_times(world: World, tmp_path: Path, runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    PlayedStack(world, profile, pack, {GPU_NODE_1: 0.0})
    world.api.update(
        r.NODES,
        GPU_NODE_1,
        None,
        lambda node: node["status"].update(conditions=[{"type": "Ready", "status": "Unknown"}]),
    )
    run = scenario_run(profile, "ready-unknown", "gpu-node-1", None, revert_s=0.2)  # held 0.2 s after the fault
    (observation,) = observed(backend_for(world, tmp_path, runai).run([run], status=lambda _m: None))
    healthy = [(at, text) for at, text in observation.timeline if text.endswith("(healthy cluster)")]
    assert healthy and all(at < 0 for at, _ in healthy)
    assert "firing (healthy cluster)" in [text for _, text in healthy]
    assert "the healthy cluster, before any fault, already showed" in " ".join(
        judge(expectation_for(run, profile, pack, 1.0), observation).problems
    )


# -- every way out reverts -------------------------------------------------------------------------------------


def test_a_run_that_never_alerts_is_reverted_when_overdue(
    world: World, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    profile, pack = runai
    PlayedStack(world, profile, pack, {})  # this stack never alerts
    started = time.monotonic()
    (observation,) = observed(
        backend_for(world, tmp_path, runai).run(
            [scenario_run(profile, "ready-unknown", "gpu-node-1", None, revert_s=0.3)], status=lambda _m: None
        )
    )
    assert time.monotonic() - started < 5
    assert observation.fault_applied and observation.notified_s is None and observation.firing_s is None
    assert observation.reverted_s is not None and observation.reverted_s >= 0.3
    assert all_ready(world)


def test_a_fault_failing_midway_is_reverted_and_the_run_goes_on(
    world: World, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    profile, pack = runai
    stack = PlayedStack(world, profile, pack, {GPU_NODE_1: 0.1})
    before = world.snapshot()
    # ready-unknown (gpu-node-1) is applied first; once its kubelet is stopped, the cordon of gpu-node-3 fails
    stop = world.agent.stop_kubelet

    def stop_then_break(node: str, *, hold_s: float) -> None:
        stop(node, hold_s=hold_s)
        world.api.fail("PATCH", f"/nodes/{GPU_NODE_3}", 500)

    world.agent.stop_kubelet = stop_then_break  # type: ignore[method-assign]
    runs = [
        scenario_run(profile, "ready-unknown", "gpu-node-1", 0.1),
        scenario_run(profile, "unschedulable", "gpu-node-3", 0.1),
    ]
    backend = backend_for(world, tmp_path, runai)
    stopped, cordoned = observed(backend.run(runs, status=lambda _m: None))
    # the cordon that failed is that run's error; the other run of the wave goes on and notifies
    assert cordoned.error and "injected failure" in cordoned.error and not cordoned.fault_applied
    assert stopped.error is None and stopped.notified_s is not None and stopped.reverted_s is not None
    assert ("start", GPU_NODE_1) in world.agent.calls
    assert all_ready(world) and world.snapshot() == before
    assert backend.failed and stack.reads["capture"] >= 1


def test_a_fault_whose_wait_times_out_is_reverted(world: World, tmp_path: Path, runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    PlayedStack(world, profile, pack, {})
    calls: list[str] = []
    world.agent.stop_kubelet = lambda node, *, hold_s: calls.append(f"stop {node}")  # type: ignore[method-assign]
    world.agent.start_kubelet = lambda node: calls.append(f"start {node}")  # type: ignore[method-assign]
    (observation,) = observed(
        backend_for(world, tmp_path, runai).run(
            [scenario_run(profile, "ready-unknown", "gpu-node-1", 0.1)], status=lambda _m: None
        )
    )
    assert observation.error is not None and "gave up waiting" in observation.error
    assert calls == [f"stop {GPU_NODE_1}", f"start {GPU_NODE_1}"]
    node = world.api.get(r.NODES, GPU_NODE_1)
    assert node is not None and "alert-conformance/fault" not in (node["metadata"].get("annotations") or {})


def test_ctrl_c_while_holding_reverts_every_fault(world: World, tmp_path: Path, runai: tuple[Profile, Pack]) -> None:
    profile, pack = runai
    PlayedStack(world, profile, pack, {GPU_NODE_1: 30.0, GPU_NODE_3: 30.0})

    def status(line: str) -> None:
        if "firing" in line and "notified" in line:
            raise KeyboardInterrupt

    backend = backend_for(world, tmp_path, runai)
    with pytest.raises(KeyboardInterrupt):
        backend.run(
            [
                scenario_run(profile, "ready-unknown", "gpu-node-1", 5.0),
                scenario_run(profile, "unschedulable", "gpu-node-3", 5.0),
            ],
            status=status,
        )
    # both reverted: the kubelet started again, the cordon lifted
    assert all_ready(world) and backend.failed
    assert world.agent.calls == [("stop", GPU_NODE_1), ("start", GPU_NODE_1)]


def test_close_is_idempotent_and_applies_keep_cluster_once(
    world: World, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:
    runner = FakeRunner(lambda argv: CommandResult(tuple(argv), 0, "", ""))
    backend = backend_for(world, tmp_path, runai, keep_cluster="never")
    backend.kind = KindCluster(CLUSTER, Path("/bin/kind"), Path("/bin/docker"), runner)
    layout = backend.plan.placement.layout
    assert layout is not None
    backend.kind.ensure(layout.write_config(tmp_path))  # `kind get clusters` lists nothing: created by this run
    backend.close()
    backend.close()
    deletes = [c for c in runner.calls if c[1:3] == ("delete", "cluster")]
    assert deletes == [("/bin/kind", "delete", "cluster", "--name", CLUSTER)]
    assert len(backend.log) == 1


# -- sources and rule selection --------------------------------------------------------------------------------


def test_given_urls_are_read_instead_of_the_operator_services(world: World) -> None:
    seen: list[str] = []

    def answer(body: Any) -> Any:
        def handler(method: str, path: str, raw: bytes) -> tuple[int, bytes]:
            seen.append(path)
            return 200, json.dumps(body).encode()

        return handler

    world.api.on_proxy(
        "services",
        "elsewhere",
        "prom",
        9090,
        answer({"data": {"alerts": [{"labels": {"alertname": "A"}, "state": "pending"}]}}),
    )
    world.api.on_proxy("services", "elsewhere", "am", 9093, answer([{"labels": {"alertname": "A"}}]))
    base = f"{world.api.url}/api/v1/namespaces/elsewhere/services"
    sources = find_sources(
        world.client,
        monitoring_namespace="monitoring",
        capture_namespace="monitoring",
        prometheus_url=f"{base}/prom:9090/proxy",
        alertmanager_url=f"{base}/am:9093/proxy",
    )
    assert sources.prometheus_alerts() == [({"alertname": "A"}, "pending")]
    assert sources.alertmanager_alerts() == [(None, [{"labels": {"alertname": "A"}}])]
    assert seen == ["/api/v1/alerts", "/api/v2/alerts"]
    assert sources.captured() is None  # no capture webhook answering: retried at the next poll, not an error


def test_operator_services_honour_the_route_prefix_and_a_missing_prometheus_is_one_clear_error(world: World) -> None:
    from conformance.errors import BackendError

    with pytest.raises(
        BackendError,
        match=re.escape("no monitoring.coreos.com/v1 Prometheus found in namespace monitoring; pass --prometheus-url"),
    ):
        find_sources(world.client, monitoring_namespace="monitoring", capture_namespace="monitoring")
    world.api.add(ko.prometheus(routePrefix="/prom"))
    world.api.add(ko.alertmanager())
    paths: list[str] = []

    def prometheus(method: str, path: str, body: bytes) -> tuple[int, bytes]:
        paths.append(path)
        return 200, b'{"data": {"alerts": []}}'

    world.api.on_proxy("services", "monitoring", "prometheus-operated", 9090, prometheus)
    sources = find_sources(world.client, monitoring_namespace=None, capture_namespace="monitoring")
    assert sources.prometheus_alerts() == []
    assert paths == ["/prom/api/v1/alerts"]


def test_rule_selection_reads_the_prometheus_selectors() -> None:
    from conformance.errors import BackendError

    def prometheus(**spec: Any) -> dict[str, Any]:
        return {"metadata": {"name": "k8s", "namespace": "monitoring"}, "spec": spec}

    assert rule_selection(
        prometheus(ruleSelector={"matchLabels": {"role": "alert-rules"}}, ruleNamespaceSelector={})
    ) == ({"role": "alert-rules"}, None)
    assert rule_selection(prometheus(ruleSelector={}, ruleNamespaceSelector={"matchLabels": {"team": "x"}})) == (
        {},
        {"team": "x"},
    )
    with pytest.raises(BackendError, match=re.escape("no spec.ruleSelector")):
        rule_selection(prometheus(ruleNamespaceSelector={}))
    with pytest.raises(BackendError, match="only in its own namespace monitoring"):
        rule_selection(prometheus(ruleSelector={}))
    with pytest.raises(BackendError, match="matchExpressions"):
        rule_selection(
            prometheus(
                ruleSelector={"matchExpressions": [{"key": "a", "operator": "Exists"}]}, ruleNamespaceSelector={}
            )
        )


def test_predicted_labels_are_translated_to_cluster_names(runai: tuple[Profile, Pack]) -> None:
    from conformance.kube.placement import Placement

    profile, _ = runai
    placement = Placement.for_cluster(profile.environment, (), ["real-1", "real-2"])
    labels = translate_labels({"node": "gpu-node-1", "namespace": "runai", "job": "runai"}, placement)
    assert labels == {"node": placement.nodes["gpu-node-1"], "namespace": "alert-conformance-runai", "job": "runai"}


def test_cluster_rules_carry_the_labels_the_cluster_prometheus_selects(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:

    api = fake_kube_api
    api.add(ko.node("real-worker-1"))
    api.add(ko.alertmanager(alertmanagerConfigSelector=ko.selecting(team="platform")))
    api.add(
        ko.prometheus(
            ruleSelector=ko.selecting(role="alert-rules", prometheus="k8s"),
            ruleNamespaceSelector=ko.selecting(monitoring="enabled"),
        )
    )

    api.reactors.append(ready_on_create)
    backend = cluster_backend(
        api, tmp_path, runai, allow_disruption=True, allow_nodes=True, alert_pack=runai[0].pack_path
    )
    backend.prepare()
    rules = api.items(r.PROMETHEUSRULES)
    assert rules and all(rule["metadata"]["labels"]["role"] == "alert-rules" for rule in rules)
    assert all(
        rule["metadata"]["labels"]["prometheus"] == "k8s" and "release" not in rule["metadata"]["labels"]
        for rule in rules
    )
    namespace = api.get(r.NAMESPACES, rules[0]["metadata"]["namespace"])
    assert namespace is not None and namespace["metadata"]["labels"]["monitoring"] == "enabled"
    assert namespace["metadata"]["name"].startswith("alert-conformance-")
    assert any("as Prometheus monitoring/k8s selects them" in line for line in backend.log)
    # and the run reads that Prometheus through the API server's proxy
    assert backend.ctx is not None
    sources = backend.sources(backend.ctx.client)
    assert sources.prometheus.namespace == "monitoring" and sources.prometheus.service == "prometheus-operated"
    assert sources.capture.namespace == namespace["metadata"]["name"]


class StaticSources(ClusterSources):
    """Fixed answers, for the watcher alone."""

    def __init__(self, am: list[dict[str, Any]], entries: list[dict[str, Any]]) -> None:
        super().__init__(Endpoint("p"), Endpoint("a"), Endpoint("c"))
        object.__setattr__(self, "am", am)
        object.__setattr__(self, "entries", entries)

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        return []

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        return [(None, list(self.am))]  # type: ignore[attr-defined]

    def captured(self, since: int = 0) -> tuple[list[dict[str, Any]], int] | None:
        entries: list[dict[str, Any]] = self.entries  # type: ignore[attr-defined]
        return entries[since:], len(entries)


def test_existing_cluster_notifications_are_named_after_the_real_receivers(runai: tuple[Profile, Pack]) -> None:
    from conformance.kube.placement import Placement
    from conformance.observe.backend import new_watches
    from conformance.observe.watch import Watcher

    profile, pack = runai
    placement = Placement.for_cluster(profile.environment, (), ["real-1"])
    run = scenario_run(profile, "ready-unknown", "gpu-node-1", 1.0)
    labels = {"alertname": ALERT, "severity": "critical", "node": "real-1"}
    capture = "alert-conformance-runai/alert-conformance-capture/capture"
    am = [
        {
            "labels": labels,
            "status": {"state": "active"},
            "receivers": [{"name": "webhook-notifications"}, {"name": capture}],
        }
    ]
    payload = {
        "version": "4",
        "groupKey": "k",
        "status": "firing",
        "receiver": capture,
        "groupLabels": {},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "",
        "alerts": [{"status": "firing", "labels": labels, "annotations": {}, "startsAt": "x", "endsAt": ""}],
    }
    entries = [{"at": 105.0, "path": "/r/cluster/alert-conformance-runai", "payload": payload}]
    (watch,) = new_watches([run], profile, pack, 1.0, lambda labels: translate_labels(labels, placement))
    watch.injected(100.0)
    watcher = Watcher(StaticSources(am, entries), profile, pack, clock=lambda: 106.0)
    watcher.poll([watch])
    assert watch.observation.receivers == [WEBHOOK] and watch.observation.notified_s == 5.0
    assert "in alertmanager webhook" in [text for _, text in watch.observation.timeline]


# -- an existing cluster: node faults aim at its real nodes ----------------------------------------------------


class EchoSources(ClusterSources):
    """A cluster stack that notifies every documented receiver of a run as soon as the run's fault shows in the
    API (its node cordoned, or a pod pinned to it), so the run is reverted at once, and sends the resolved
    notification once the fault is gone."""

    def __init__(self, api: FakeKubeApi, profile: Profile, pack: Pack) -> None:
        super().__init__(Endpoint("p"), Endpoint("a"), Endpoint("c"))
        object.__setattr__(self, "state", (api, profile, pack, [], set()))
        self.runs: list[tuple[ScenarioRun, str]] = []  # (run, the real node it aims at)

    def prometheus_alerts(self) -> list[tuple[dict[str, str], str]] | None:
        return []

    def alertmanager_alerts(self) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        return [(None, [])]

    def _faulted(self, node: str) -> bool:
        api = self.state[0]  # type: ignore[attr-defined]
        found = api.get(r.NODES, node)
        pinned = [pod for pod in api.items(r.PODS) if pod["spec"].get("nodeName") == node]
        return bool(pinned) or bool(found and found.get("spec", {}).get("unschedulable"))

    def captured(self, since: int = 0) -> tuple[list[dict[str, Any]], int] | None:
        _, profile, pack, entries, sent = self.state  # type: ignore[attr-defined]
        for run, node in self.runs:
            faulted = self._faulted(node)
            if (f"{run.id} firing" in sent or not faulted) and (f"{run.id} firing" not in sent or faulted):
                continue
            status = "resolved" if f"{run.id} firing" in sent else "firing"
            if f"{run.id} {status}" in sent:
                continue
            sent.add(f"{run.id} {status}")
            labels = {"alertname": run.alert.name, "severity": run.alert.severity, "node": node}
            for setup_name, receiver in run.alert.receivers.items():
                setup = pack_setup_for(pack, profile, setup_name)
                assert setup is not None
                generated = setup.generated_name(receiver)
                alert = {"status": status, "labels": labels, "annotations": {}, "startsAt": "x", "endsAt": ""}
                payload = {
                    "version": "4",
                    "groupKey": run.id,
                    "status": status,
                    "receiver": receiver,
                    "groupLabels": {},
                    "commonLabels": labels,
                    "commonAnnotations": {},
                    "externalURL": "",
                    "alerts": [alert],
                }
                entries.append({"at": time.time(), "path": capture_path(setup.name, generated), "payload": payload})
        return entries[since:], len(entries)


def node_run(profile: Profile, scenario_id: str, node: str) -> ScenarioRun:
    alert = next(a for a in profile.alerts if any(s.id == scenario_id for s in a.scenarios))
    scenario = next(s for s in alert.scenarios if s.id == scenario_id)
    labels = ({"alertname": alert.name, "severity": alert.severity, "node": node},)
    prediction = Prediction(alert.key, alert.name, scenario_id, 0.8, 0.3, 0.1, 0.3, 0.4, labels, 0.1, 0.1)
    return ScenarioRun(alert, scenario, 0.8, prediction)


def test_cluster_node_faults_change_and_restore_the_real_nodes(
    fake_kube_api: FakeKubeApi, tmp_path: Path, runai: tuple[Profile, Pack]
) -> None:

    api = fake_kube_api
    real = ["real-a", "real-b"]
    for name in real:
        api.add(ko.node(name))
    api.add(ko.node("real-cp", control_plane=True))
    api.add(ko.alertmanager(alertmanagerConfigSelector=ko.selecting()))
    seen: list[tuple[str, str, Any]] = []  # (event, node the fault aimed at, what it set)

    def record(api: FakeKubeApi, event: str, resource: Any, obj: dict[str, Any]) -> None:
        if resource is r.NODES and event == "patch":
            seen.append(("node", obj["metadata"]["name"], obj.get("spec", {}).get("unschedulable")))
        if resource is r.PODS and event == "create" and obj["spec"].get("nodeName"):
            seen.append(("pod", obj["spec"]["nodeName"], obj["metadata"]["name"]))
            # the kubelet of the fake cluster starts a pinned pod at once
            obj["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}

    api.reactors += [ready_on_create, record]
    profile, pack = runai
    backend = cluster_backend(api, tmp_path, runai, allow_disruption=True, allow_nodes=True)
    backend.poll_s, backend.healthy_s = 0.02, 0.05
    backend.executor_factory = lambda client: FakeExecutor(exec_answers)
    sources = EchoSources(api, profile, pack)
    backend._sources = sources
    backend.prepare()
    mapped = backend.plan.placement.nodes
    runs = [node_run(profile, "unschedulable", "gpu-node-3"), node_run(profile, "node-memory-warning", "gpu-node-4")]
    sources.runs = [(runs[0], mapped["gpu-node-3"]), (runs[1], mapped["gpu-node-4"])]
    started = time.monotonic()
    outcome = backend.run(runs, status=lambda _m: None)
    assert time.monotonic() - started < 20
    cordoned, pressured = (result.observation for result in outcome.results)
    assert cordoned.fault_applied and cordoned.reverted_s is not None, cordoned
    assert pressured.fault_applied and pressured.reverted_s is not None, pressured
    assert cordoned.notified_s is not None and pressured.notified_s is not None
    # the faults aimed at the cluster's real workers, as the plan mapped them, never at a placeholder
    assert mapped["gpu-node-3"] in real and mapped["gpu-node-4"] in real
    assert ("node", mapped["gpu-node-3"], True) in seen
    assert any(kind == "pod" and node == mapped["gpu-node-4"] for kind, node, _ in seen)
    assert not [call for call in api.calls if "<" in call.path]
    # and every change was restored: the node schedulable again, the memory pod gone
    for name in real:
        node = api.get(r.NODES, name)
        assert node is not None and not node.get("spec", {}).get("unschedulable")
        assert "alert-conformance/fault" not in (node["metadata"].get("annotations") or {})
    assert not [pod for pod in api.items(r.PODS) if pod["spec"].get("nodeName") in real]
