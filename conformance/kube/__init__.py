"""Depth 6: real Kubernetes. The API client wrapper, the kind and existing-cluster backends, the safety rules,
the RBAC preflight and leftover cleanup (the fake API server for tests is :mod:`conformance.testing.fake_api`).

Nothing here imports pytest. Fault injectors live in the ``conformance_plugins`` package (``plugins/``) and are
reached at run time through the ``alert_conformance_faults`` entry-point group, not imported statically.
"""
