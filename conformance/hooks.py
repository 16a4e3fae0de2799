"""Hooks alert-conformance adds to pytest, so a vendor's ``conftest.py`` can extend it."""

from __future__ import annotations

from typing import Any


def pytest_conformance_register_faults(registry: Any) -> None:
    """Register extra fault injectors: ``registry.register(name, injector_class)``.

    Called once per session with the :class:`conformance_plugins.registry.FaultRegistry`; the built-in
    faults are already registered. An injector registered under an existing name replaces it.
    """
