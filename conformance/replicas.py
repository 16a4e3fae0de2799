"""How many Prometheus and Alertmanager replicas a live run runs: the pack's own counts where it sets them,
else the profile's high-availability set-up, else one of each (a profile without HA)."""

from __future__ import annotations

from conformance.model.profile import Profile
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
