"""How many Prometheus and Alertmanager replicas a live run runs: the pack's own counts where it sets them,
else the profile's high-availability set-up, else one of each (a profile without HA); and the replica-loss
scenarios those replicas allow, as the live runs go through them (:func:`ha_runs`)."""

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


def shares_runs(loss: ReplicaLoss) -> bool:
    """Whether ``loss`` happens to the live runs themselves (see :func:`ha_runs`), or to repeats of their own."""
    return loss.component == "prometheus" or loss.when == "notified"


def _reaches(run: ScenarioRun, loss: ReplicaLoss) -> bool:
    return loss.setup is None or loss.setup in run.alert.receivers


def ha_runs(profile: Profile, pack: Pack, runs: Sequence[ScenarioRun]) -> list[ScenarioRun]:
    """The live runs with every replica loss the replicas allow, each documented alert going through each.

    Two losses that happen at different moments share the runs themselves: every run loses a Prometheus
    replica while its alert is pending and then, per set-up it reaches, the Alertmanager peer that notified it,
    just after (a failure before the second loss is the first's). An Alertmanager peer lost while pending cannot
    share them (the peer that would notify is gone, so the one left is the one that must notify after the
    first's loss too): per set-up, each alert's first scenario that depth 3 predicts fires is repeated with that
    loss alone (``repeat``), only the profile's ``high_availability.scenario_alert`` where it names one.

    A backend runs the runs sharing a set of losses in a world of their own and loses each replica once for all
    of them, their faults staggered so that each alert is at its moment then
    (:func:`conformance.observe.engine.stagger`).
    """
    losses = replica_losses(profile, pack)
    shared = [loss for loss in losses if shares_runs(loss)]
    result = [replace(run, losses=tuple(loss for loss in shared if _reaches(run, loss))) for run in runs]
    chosen = profile.high_availability.scenario_alert if profile.high_availability else None
    for loss in losses:
        if loss in shared:
            continue
        taken: set[str] = set()
        for run in runs:
            if (
                run.alert.key not in taken
                and run.prediction.fire_after_s is not None
                and _reaches(run, loss)
                and (chosen is None or chosen in (run.alert.key, run.alert.name))
            ):
                taken.add(run.alert.key)
                result.append(replace(run, losses=(loss,), repeat=True))
    return result
