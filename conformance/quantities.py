"""Kubernetes quantities (``512Mi``, ``500m``, ``1e9``) as floats, through the official client's parser."""

from __future__ import annotations

from kubernetes.utils.quantity import parse_quantity as _k8s_parse_quantity


def parse_quantity(value: str | int | float) -> float:
    """``"512Mi"`` -> 536870912.0, ``"500m"`` -> 0.5. Raises ``ValueError`` naming the value."""
    try:
        return float(_k8s_parse_quantity(value))  # type: ignore[no-untyped-call]
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from error
