"""Fault injectors for real Kubernetes, one module per fault, each with its revert (``conformance_plugins``).

The package is the ``builtin`` entry of the ``alert_conformance_faults`` entry-point group: loading it calls
:func:`register_faults`. A vendor adds a fault from its ``conftest.py`` with the
``pytest_conformance_register_faults(registry)`` hook, or from a package through the same entry-point group
(an entry pointing at a module with ``register_faults(registry)`` or at such a function).
"""

from __future__ import annotations

from typing import Any


def register_faults(registry: Any) -> None:
    """Register every built-in injector on ``registry`` (a :class:`conformance_plugins.registry.FaultRegistry`)."""
    from conformance_plugins.builtin import BUILTIN_INJECTORS

    for injector in BUILTIN_INJECTORS:
        registry.register(injector.fault, injector)
