"""A failing scenario whose fault changes none of the series the alert's rules read says so in its reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.model.profile import Profile
from conformance.options import Options
from conformance.packs.loader import load_pack
from conformance.packs.model import Pack, Rule
from conformance.profiles import load_profile
from conformance.session import ConformanceSession
from conformance.static.behaviour import AlertBehaviour, BehaviourPlan, CaseVerdict, plan_behaviour
from conformance.static.cases import Case
from conformance.static.promtool_runner import Timeline
from conformance.static.series import SeriesKey
from conformance.static.untouched import FaultEffects, changed_series, failing_faults

# Two workloads that both serve a counter at one per second; each alert's fault is on api.
PROFILE = """
name: two-workloads
title: Two workloads, the faults on one of them
seeds: [none]
pack: pack
environment:
  namespaces: [shop]
  nodes:
    - {name: worker-1}
  workloads:
    - kind: Deployment
      name: api
      namespace: shop
      containers: [{name: api}]
      scrape: {job: api, port: 8080}
      vendor_metrics: [{name: shop_orders_total, type: counter, rate_per_second: 1}]
    - kind: Deployment
      name: web
      namespace: shop
      containers: [{name: web}]
      scrape: {job: web, port: 8080}
      vendor_metrics: [{name: shop_orders_total, type: counter, rate_per_second: 1}]
routing:
  - name: default
    form: file
    receiver: pager
    source: {seed: none, section: test, quote: everything pages}
alerts:
  - name: ApiDown
    severity: critical
    meaning: the api stops answering scrapes
    source: {seed: none, section: test, quote: unreachable for 2 minutes}
    for: {value: 2m, documented: true}
    scenarios:
      - fault: target-down
        target: {namespace: shop, workload: api}
  - name: OrdersDropped
    severity: warning
    meaning: the api takes fewer orders
    source: {seed: none, section: test, quote: under half an order a second}
    threshold: {quantity: rate_per_second, op: "<", value: 0.5, documented: true}
    for: {value: 5m, documented: true}
    window: {value: 5m, documented: true}
    scenarios:
      - fault: metric-rate-drop
        target: {namespace: shop, workload: api}
        params: {metric: shop_orders_total}
"""

RULES = """
groups:
  - name: shop
    rules:
      - alert: ApiDown
        expr: up{{job="{job}"}} == 0
        for: 2m
        labels: {{severity: critical}}
      - record: job:shop_orders:rate5m
        expr: sum by (job) (rate(shop_orders_total{{job="{job}"}}[5m]))
      - alert: OrdersDropped
        expr: job:shop_orders:rate5m < 0.5
        for: 5m
        labels: {{severity: warning}}
"""

ALERTMANAGER = """
route: {receiver: pager}
receivers: [{name: pager}]
"""


def _profile(root: Path, job: str) -> Path:
    """The profile above with a pack whose rules read workload ``job``'s series."""
    (root / "pack").mkdir(parents=True)
    (root / "pack" / "rules.yaml").write_text(RULES.format(job=job))
    (root / "pack" / "alertmanager.yaml").write_text(ALERTMANAGER)
    path = root / "profile.yaml"
    path.write_text(PROFILE)
    return path


def _planned(path: Path) -> tuple[Profile, Pack, BehaviourPlan]:
    profile = load_profile(str(path))
    pack = load_pack(profile.pack_path)
    return profile, pack, plan_behaviour(profile, pack)


def _fire_case(plan: BehaviourPlan, name: str) -> Case:
    return next(item.case for item in plan.planned if item.behaviour.alert.name == name and item.case.kind == "fire")


def _needs(plan: BehaviourPlan, name: str) -> list[Rule]:
    return next(rules for key, rules in plan.needs.items() if plan.results[key].alert.name == name)


def test_a_fault_on_another_workload_changes_none_of_the_series_read(tmp_path: Path) -> None:
    profile, pack, plan = _planned(_profile(tmp_path, job="web"))
    effects = FaultEffects(profile, pack)
    down = effects.untouched(_needs(plan, "ApiDown"), _fire_case(plan, "ApiDown"))
    assert down is not None
    assert down.describe() == (
        'the fault target-down on shop/api changes none of the series its rules read (up{job="web"})'
    )
    # Read through a recording rule: the recorded series is judged by what its rule reads.
    dropped = effects.untouched(_needs(plan, "OrdersDropped"), _fire_case(plan, "OrdersDropped"))
    assert dropped is not None
    assert dropped.describe() == (
        "the fault metric-rate-drop on shop/api changes none of the series its rules read "
        '(shop_orders_total{job="web"})'
    )


def test_a_fault_that_changes_what_the_rules_read_is_no_reason(tmp_path: Path) -> None:
    """``up`` goes to 0; the counter keeps existing and only grows slower, which counts as a change."""
    profile, pack, plan = _planned(_profile(tmp_path, job="api"))
    effects = FaultEffects(profile, pack)
    assert effects.untouched(_needs(plan, "ApiDown"), _fire_case(plan, "ApiDown")) is None
    assert effects.untouched(_needs(plan, "OrdersDropped"), _fire_case(plan, "OrdersDropped")) is None


def test_a_series_changes_when_it_appears_vanishes_or_moves_and_not_by_float_rounding() -> None:
    up: SeriesKey = (("__name__", "up"), ("job", "api"))
    other: SeriesKey = (("__name__", "up"), ("job", "web"))
    healthy: list[dict[SeriesKey, float]] = [{up: 1.0, other: 100.0}, {up: 1.0, other: 130.0}]
    assert changed_series(healthy, [{up: 1.0, other: 100.0}, {up: 1.0, other: 130.0 + 1e-12}]) == set()
    assert changed_series(healthy, [{up: 1.0, other: 100.0}, {other: 130.0}]) == {up}
    assert changed_series(healthy, [{up: 1.0, other: 100.0}, {up: 1.0, other: 115.0}]) == {other}


def test_only_failing_cases_that_must_fire_are_checked(tmp_path: Path) -> None:
    _, _, plan = _planned(_profile(tmp_path, job="web"))
    cases = [item.case for item in plan.planned if item.behaviour.alert.name == "OrdersDropped"]
    assert {case.kind for case in cases} == {"fire", "immediate", "healthy"}
    verdicts = [CaseVerdict(case, Timeline(), None if case.kind == "fire" else "wrong") for case in cases]
    assert [case.kind for case in failing_faults(verdicts)] == ["immediate"]
    healthy_only = [CaseVerdict(case, Timeline(), "wrong" if case.kind == "healthy" else None) for case in cases]
    assert failing_faults(healthy_only) == []


def _session(path: Path, failing: set[str]) -> ConformanceSession:
    """A session whose depth 3 says each alert of ``failing`` never fired in its fire cases (what promtool says of
    these rules: the integration test runs it) and every other alert passed."""
    session = ConformanceSession.open(Options(profile=str(path)))

    def judged() -> dict[str, AlertBehaviour]:
        plan = session.behaviour_plan()
        for item in plan.planned:
            fails = item.behaviour.alert.name in failing and item.case.must_fire
            item.behaviour.verdicts.append(CaseVerdict(item.case, Timeline(), "never fires" if fails else None))
        return plan.results

    session.memo("behaviour", judged)
    return session


@pytest.mark.parametrize(("job", "expected"), [("web", True), ("api", False)])
def test_the_failing_alerts_reason_names_the_fault_that_changes_nothing(
    tmp_path: Path, job: str, expected: bool
) -> None:
    session = _session(_profile(tmp_path, job=job), failing={"ApiDown"})
    try:
        reasons = session.behaviour_reasons(session.profile.alert("ApiDown"))
        untouched = f'the fault target-down on shop/api changes none of the series its rules read (up{{job="{job}"}})'
        assert reasons == ["fire case: target-down on shop/api: never fires", *([untouched] if expected else [])]
        # A passing alert has no reasons at all, though its fault too changes nothing it reads.
        assert session.behaviour_reasons(session.profile.alert("OrdersDropped")) == []
        assert not session.has_memo(f"untouched:{session.profile.alert('OrdersDropped').key}")
    finally:
        session.close()
