"""High availability in the live twin, with real binaries: replicas run as the Prometheus Operator runs them,
notifications counted across every replica, replicas lost at the worst moment, and packs that break HA failing
with the reason."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.model.contract import DocumentedCount, HighAvailability
from conformance.model.profile import Profile
from conformance.model.run import ScenarioRun
from conformance.observe.backend import LiveOutcome
from conformance.packs.model import Pack
from conformance.replicas import ha_runs
from conformance.testing.toy import toy_cluster, toy_profile, toy_runs
from conformance.twin.backend import TwinBackend

pytestmark = [pytest.mark.needs_binaries, pytest.mark.live]

DATA = Path(__file__).parent / "data" / "live"
SCALE = 20.0


@pytest.fixture(autouse=True)
def _binaries() -> None:
    missing = [name for name in ("prometheus", "prometheus-alertmanager") if shutil.which(name) is None]
    if missing and shutil.which("alertmanager") is None:
        pytest.skip(f"{', '.join(missing)} not on PATH (apt-get install prometheus prometheus-alertmanager)")


def _ha(profile: Profile, prometheus: int, alertmanager: int) -> Profile:
    ha = HighAvailability(
        DocumentedCount(prometheus, False, note="test"), DocumentedCount(alertmanager, False, note="t")
    )
    return replace(profile, high_availability=ha)


def _down(profile: Profile) -> list[ScenarioRun]:
    return [run for run in toy_runs(profile) if run.alert.name == "ToyDown"]


def _run(
    profile: Profile, pack: Pack, runs: list[ScenarioRun], *, mesh: bool = True
) -> tuple[TwinBackend, LiveOutcome]:
    backend = TwinBackend(profile, pack, time_scale=SCALE, cluster_factory=toy_cluster, mesh_alertmanagers=mesh)
    try:
        return backend, backend.run(runs, status=lambda _line: None)
    finally:
        backend.close()


def test_two_prometheus_and_three_alertmanagers_notify_each_receiver_once(tmp_path: Path) -> None:
    # Alertmanager's own group_interval (5m): the peer at position 2 waits two peer timeouts before it checks
    # what its peers sent, which must stay well inside one group_interval, as 15 s does inside 5 m for real.
    # (With the toy's 1m at scale 20 and the 2 s peer timeout floor, that peer could flush a stale firing state
    # after its peer had notified the resolution, a real Alertmanager race that timers like these invite.)
    pack_dir = tmp_path / "pack"
    shutil.copytree(DATA / "pack", pack_dir)
    config = pack_dir / "alertmanager.yml"
    config.write_text(config.read_text().replace("group_interval: 1m", "group_interval: 5m"))
    profile, pack = toy_profile(pack_dir)
    profile = _ha(profile, 2, 3)
    backend, outcome = _run(profile, pack, _down(profile))
    (result,) = outcome.results
    verdict = result.verdict()
    assert verdict.outcome == "pass", verdict.message()
    assert verdict.notifications == {
        "main/pager": {"firing": 1, "resolved": 1},
        "secret/everything": {"firing": 1, "resolved": 1},
    }
    # Really two Prometheus and three Alertmanagers per set-up, every one of them running until the end.
    names = sorted(name.split(" ", 1)[1] for name in backend.peak_rss)
    assert names.count("prometheus-0") == 1 and names.count("prometheus-1") == 1
    assert len([name for name in names if name.startswith("alertmanager[")]) == 6
    senders = {n.sender for n in result.observation.notifications}
    assert all(sender.startswith("alertmanager-") for sender in senders)


def test_alertmanagers_that_are_not_meshed_notify_twice() -> None:
    profile, pack = toy_profile(DATA / "pack")
    profile = _ha(profile, 1, 2)
    _, outcome = _run(profile, pack, _down(profile), mesh=False)
    verdict = outcome.results[0].verdict()
    assert verdict.outcome == "fail"
    assert any(p.startswith("notified main/pager twice with the same alerts") for p in verdict.problems), (
        verdict.message()
    )
    assert verdict.notifications["main/pager"]["firing"] == 2


def test_a_rule_label_that_differs_per_replica_is_carried_twice(tmp_path: Path) -> None:
    pack_dir = tmp_path / "pack"
    shutil.copytree(DATA / "pack", pack_dir)
    rules = pack_dir / "rules.yaml"
    rules.write_text(
        rules.read_text().replace(
            "labels: {severity: critical}",
            "labels: {severity: critical, evaluated_by: '{{ $externalLabels.prometheus_replica }}'}",
        )
    )
    profile, pack = toy_profile(pack_dir)
    profile = _ha(profile, 2, 1)
    _, outcome = _run(profile, pack, _down(profile))
    verdict = outcome.results[0].verdict()
    assert verdict.outcome == "fail"
    duplicated = [p for p in verdict.problems if "carried the alert twice" in p or "twice with the same alerts" in p]
    assert duplicated, verdict.message()


def test_replicas_lost_at_the_worst_moment_neither_silence_nor_duplicate() -> None:
    profile, pack = toy_profile(DATA / "pack")
    profile = _ha(profile, 2, 2)
    runs = ha_runs(profile, pack, _down(profile))
    assert [[loss.id for loss in run.losses] for run in runs] == [
        [
            "prometheus-replica-lost-while-pending",
            "alertmanager-main-peer-lost-after-notifying",
            "alertmanager-secret-peer-lost-after-notifying",
        ],
        ["alertmanager-main-peer-lost-while-pending"],
        ["alertmanager-secret-peer-lost-while-pending"],
    ]
    chosen = runs[:2]
    _, outcome = _run(profile, pack, chosen)
    for result in outcome.results:
        verdict = result.verdict()
        assert verdict.outcome == "pass", verdict.message()
        assert verdict.notifications["main/pager"] == {"firing": 1, "resolved": 1}, verdict.message()
        lost = {
            event.split(" (")[1].rstrip(")"): event.removeprefix("lost ").split(" (")[0]
            for _, event in result.observation.timeline
            if event.startswith("lost ")
        }
        assert sorted(lost) == sorted(loss.id for loss in result.run.losses), verdict.message()
        pager = [n for n in result.observation.notifications if n.receiver == "main/pager"]
        if "alertmanager-main-peer-lost-while-pending" in lost:
            # The peer that would have sent first is the one lost: the other sends, after its peer timeout.
            peer = lost["alertmanager-main-peer-lost-while-pending"]
            assert all(n.sender and n.sender != peer for n in pager), verdict.message()
        if "alertmanager-main-peer-lost-after-notifying" in lost:
            peer = lost["alertmanager-main-peer-lost-after-notifying"]
            firing, resolved = (next(n for n in pager if n.status == status) for status in ("firing", "resolved"))
            assert firing.sender == peer and resolved.sender != peer, verdict.message()
