"""The one place a live backend is made and a live run is driven, for scripts and the pytest suite alike.

``--backend twin`` (the default) is :class:`conformance.twin.backend.TwinBackend`; ``kind`` and ``cluster`` are
:class:`conformance.kube.backend.KubeBackend`. Each is imported only when chosen, so a twin run never loads the
Kubernetes client.
"""

from __future__ import annotations

import importlib

from conformance.model.run import StatusCallback
from conformance.observe.backend import LiveBackend, LiveOutcome
from conformance.session import ConformanceSession


def make_backend(session: ConformanceSession) -> LiveBackend:
    """The backend ``session.options.backend`` names, with the session's tools and fault registry."""
    options = session.options
    if options.backend == "twin":
        from conformance.twin.backend import TwinBackend

        return TwinBackend(
            session.profile,
            session.pack,
            time_scale=options.time_scale,
            tools=dict(options.tools),
            budget_memory_bytes=options.budget_memory_bytes,
        )
    # Imported by name: the kube package (and its client) is only needed for those backends.
    backend_module = importlib.import_module("conformance.kube.backend")
    faults_module = importlib.import_module("conformance.kube.faults")
    registry = session.fault_registry or faults_module.load_registry()
    backend: LiveBackend = backend_module.KubeBackend(
        options, session.profile, session.pack, registry, workdir=session.workdir / "kube"
    )
    return backend


def run_live(session: ConformanceSession, status: StatusCallback) -> LiveOutcome:
    """Every live run of the session, once (later calls get the same outcome); the backend is closed after it,
    and at the session's end if the run was interrupted."""

    def compute() -> LiveOutcome:
        backend = make_backend(session)
        session.add_finalizer(backend.close)
        runs = session.ha_runs() if getattr(backend, "loses_replicas", False) else session.live_runs()
        try:
            return backend.run(runs, status=status)
        finally:
            backend.close()

    return session.memo("live-outcome", compute)
