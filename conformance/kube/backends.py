"""The factory the live suite uses for ``--backend kind`` and ``--backend cluster``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.kube.backend import KubeBackend
from conformance.kube.faults import load_registry

if TYPE_CHECKING:
    from conformance.session import ConformanceSession


def make_backend(session: ConformanceSession) -> KubeBackend:
    """A kind or existing-cluster backend for the session, with the session's fault registry (vendor hooks
    included) and the tools from its options."""
    registry = session.fault_registry or load_registry()
    return KubeBackend(session.options, session.profile, session.pack, registry, workdir=session.workdir / "kube")
