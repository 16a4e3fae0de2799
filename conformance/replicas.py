"""How many Prometheus and Alertmanager replicas a live run runs: the pack's own counts where it sets them,
else the profile's high-availability set-up, else one of each (a profile without HA)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from conformance.model.profile import Profile
from conformance.model.run import ReplicaLoss, ScenarioRun
from conformance.packs.model import AlertmanagerSetup, Pack


def prometheus_replicas(profile: Profile, pack: Pack) -> int:
    if pack.prometheus_replicas is not None:
        return pack.prometheus_replicas
    ha = profile.high_availability
    return ha.prometheus_replicas.value if ha is not None else 1


def alertmanager_replicas(profile: Profile, setup: AlertmanagerSetup) -> int:
    if setup.replicas is not None:
        return setup.replicas
    ha = profile.high_availability
    return ha.alertmanager_replicas.value if ha is not None else 1


def is_high_availability(profile: Profile, pack: Pack) -> bool:
    """Whether more than one Prometheus or more than one Alertmanager of a set-up runs."""
    return prometheus_replicas(profile, pack) > 1 or any(alertmanager_replicas(profile, s) > 1 for s in pack.setups)


def replica_losses(profile: Profile, pack: Pack) -> list[ReplicaLoss]:
    """The high-availability scenarios the replicas allow: a Prometheus replica lost while an alert is pending
    (two or more Prometheus), and per documented set-up whose Alertmanager runs two or more replicas, a peer
    lost while pending and one lost just after it notified."""
    losses: list[ReplicaLoss] = []
    if prometheus_replicas(profile, pack) > 1:
        losses.append(ReplicaLoss("prometheus", "pending"))
    for documented in profile.routing:
        setup = pack.setup(documented.form)
        if setup is not None and alertmanager_replicas(profile, setup) > 1:
            losses.append(ReplicaLoss("alertmanager", "pending", documented.name))
            losses.append(ReplicaLoss("alertmanager", "notified", documented.name))
    return losses


def loss_runs(profile: Profile, pack: Pack, runs: Sequence[ScenarioRun]) -> list[ScenarioRun]:
    """Each replica loss as a run of its own, on the scenario of one documented alert: the profile's
    ``high_availability.scenario_alert``, else the alert predicted to fire soonest after a pending phase (a
    ``for:``), so the loss happens while it is pending and the run ends early. An Alertmanager loss needs an
    alert routed to that set-up."""
    found: list[ScenarioRun] = []
    chosen = profile.high_availability.scenario_alert if profile.high_availability else None
    for loss in replica_losses(profile, pack):
        candidates = [
            run
            for run in runs
            if run.loss is None
            and run.prediction.fire_after_s is not None
            and run.alert.for_.seconds > 0
            and (loss.setup is None or loss.setup in run.alert.receivers)
            and (chosen is None or chosen in (run.alert.key, run.alert.name))
        ]
        if candidates:
            best = min(candidates, key=lambda run: (run.prediction.fire_after_s or 0.0, run.id))
            found.append(replace(best, loss=loss))
    return found
