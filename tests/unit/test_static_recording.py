"""Recording a case's series: the shared warm-up shortcut gives exactly what sampling every step gives."""

from __future__ import annotations

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source, Threshold
from conformance.model.scenario import Scenario, Target
from conformance.sim.examples import example_environment
from conformance.static.cases import Timing, build_cases
from conformance.static.clock import ScrapeClock
from conformance.static.series import record_case, selectors_in, warm_up

SCRAPE = 30.0

EXPRESSIONS = {
    "unavailable-replicas": 'kube_deployment_status_replicas_unavailable{deployment="api"} > 0',
    "memory-near-limit": 'max by (pod) (container_memory_working_set_bytes{container="api"})'
    ' / max by (pod) (kube_pod_container_resource_limits{resource="memory"}) > 0.9',
    "target-down": 'up{job="api"} == 0',
    "crash-loop": "changes(kube_pod_container_status_restarts_total[10m]) > 2",
}
QUANTITY = {
    "unavailable-replicas": ("unavailable_replicas", 0.0),
    "memory-near-limit": ("container_memory_limit_ratio", 0.9),
    "crash-loop": ("restarts", 2.0),
}


CLOCKS = {"on-grid": ScrapeClock.on_grid(SCRAPE), "realistic": ScrapeClock.realistic(SCRAPE)}


@pytest.mark.parametrize("clock", sorted(CLOCKS))
@pytest.mark.parametrize("fault", sorted(EXPRESSIONS))
def test_shared_warm_up_gives_the_same_series_as_sampling_every_step(fault: str, clock: str) -> None:
    env = example_environment()
    workload = env.workloads[0]
    target = Target(namespace=workload.namespace, workload=workload.name, container=workload.containers[0].name)
    threshold = None
    if fault in QUANTITY:
        quantity, value = QUANTITY[fault]
        threshold = Threshold(quantity, ">", value, True, integer=fault != "memory-near-limit")
    alert = AlertContract(
        name="A",
        severity="warning",
        meaning="m",
        source=Source("s", "s", "q"),
        threshold=threshold,
        for_=DocumentedDuration(120, True),
        window=DocumentedDuration(600, True),
        receivers={},
        scenarios=(Scenario("s", fault, target),),
    )
    selectors = tuple(selectors_in([EXPRESSIONS[fault]]))
    timing = Timing(SCRAPE, SCRAPE, 120, True, 600)
    for case in build_cases(alert, timing, warmup_s=660):
        warm = warm_up(env, case.fault_at_s, CLOCKS[clock], selectors)
        assert len(warm.steps) == 22
        stepwise = record_case(env, case, CLOCKS[clock], selectors)
        shared = record_case(env, case, CLOCKS[clock], selectors, warm)
        assert stepwise, "the selectors must see some series"
        assert shared == stepwise, case.id
