"""Recording a case's series: taking steady stretches whole gives what sampling every step gives."""

from __future__ import annotations

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source, Threshold
from conformance.model.scenario import Scenario, Target
from conformance.sim.examples import example_environment
from conformance.static.cases import Timing, build_cases
from conformance.static.series import record_case, selectors_in

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


def expand(text: str) -> list[float | str | None]:
    """promtool's value notation back to one value per scrape (``_`` None, ``stale`` kept as a word)."""
    out: list[float | str | None] = []
    for token in text.split():
        body, _, times = token.partition("x")
        count = int(times) + 1 if times else 1
        if body == "_":
            out += [None] * (int(times) if times else 1)
        elif body == "stale":
            out.append("stale")
        else:
            split = max(body.rfind("+"), body.rfind("-"))
            first, step = (float(body[:split]), float(body[split:])) if split > 0 else (float(body), 0.0)
            out += [first + index * step for index in range(count)]
    return out


@pytest.mark.parametrize("fault", sorted(EXPRESSIONS))
def test_steady_stretches_give_the_same_series_as_sampling_every_step(fault: str) -> None:
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
    # Six hours of healthy warm-up: the shortcut must cross it in a few samples and lose nothing.
    for case in build_cases(alert, timing, warmup_s=21_600):
        stepwise = record_case(env, case, SCRAPE, selectors, skip_steady=False)
        steady = record_case(env, case, SCRAPE, selectors)
        assert stepwise, "the selectors must see some series"
        assert steady.keys() == stepwise.keys(), case.id
        for key, text in stepwise.items():
            want, got = expand(text), expand(steady[key])
            assert len(got) == len(want) == int(case.horizon_s // SCRAPE) + 1, (case.id, key)
            for a, b in zip(want, got, strict=True):
                assert a == b or (isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-9 * abs(a)), key
        # The warm-up alone is 720 scrapes: taken whole, every series is a handful of tokens.
        assert max(len(text.split()) for text in steady.values()) < 40, case.id
