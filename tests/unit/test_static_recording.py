"""Recording a case's series: taking steady stretches whole gives what sampling every scrape gives, on both clocks."""

from __future__ import annotations

import pytest

from conformance.model.contract import AlertContract, DocumentedDuration, Source, Threshold
from conformance.model.scenario import Scenario, Target
from conformance.sim import SimulatedCluster
from conformance.sim.examples import example_environment
from conformance.static.cases import Timing, build_cases
from conformance.static.clock import ScrapeClock
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

CLOCKS = {"on-grid": ScrapeClock.on_grid(SCRAPE), "realistic": ScrapeClock.realistic(SCRAPE)}


def expand(text: str) -> list[float | str | None]:
    """promtool's value notation back to one value per input step (``_`` None, ``stale`` kept as a word)."""
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


@pytest.mark.parametrize("clock", sorted(CLOCKS))
@pytest.mark.parametrize("fault", sorted(EXPRESSIONS))
def test_steady_stretches_give_the_same_series_as_sampling_every_scrape(
    fault: str, clock: str, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    scrape_clock = CLOCKS[clock]
    timing = Timing(SCRAPE, SCRAPE, 120, True, 600, first_scrape_s=scrape_clock.offset_s - scrape_clock.jitter_s)
    sampled = 0
    stored_samples = SimulatedCluster.stored_samples

    def counting(self: SimulatedCluster, *args: object, **kwargs: object) -> object:
        nonlocal sampled
        sampled += 1
        return stored_samples(self, *args, **kwargs)  # type: ignore[arg-type]

    # Six hours of healthy warm-up: the shortcut must cross it in a few samples and lose nothing.
    for case in build_cases(alert, timing, warmup_s=21_600):
        stepwise = record_case(env, case, scrape_clock, selectors, skip_steady=False)
        monkeypatch.setattr(SimulatedCluster, "stored_samples", counting)
        sampled = 0
        steady = record_case(env, case, scrape_clock, selectors)
        monkeypatch.setattr(SimulatedCluster, "stored_samples", stored_samples)
        assert stepwise, "the selectors must see some series"
        assert steady.keys() == stepwise.keys(), case.id
        scrapes = scrape_clock.scrapes_until(case.horizon_s)
        for key, text in stepwise.items():
            want, got = expand(text), expand(steady[key])
            assert len(got) == len(want), (case.id, key)
            assert sum(value is not None for value in got) == scrapes, (case.id, key)
            for a, b in zip(want, got, strict=True):
                assert a == b or (isinstance(a, float) and isinstance(b, float) and abs(a - b) <= 1e-9 * abs(a)), key
        # The warm-up alone is 720 scrapes: the cluster is sampled a few times for it, not 720.
        assert sampled < scrapes - 600, (case.id, sampled, scrapes)
        if clock == "on-grid":
            # On the evaluation grid a scrape is one input step: every series is a handful of tokens.
            assert max(len(text.split()) for text in steady.values()) < 40, case.id
        else:
            # Off the grid a scrape is a value and a gap on the 1 s input grid: a steady stretch costs no
            # simulation but cannot be one a+bxN token (promtool's notation has no stride).
            assert max(len(text.split()) for text in steady.values()) <= 2 * scrapes + 2, case.id
