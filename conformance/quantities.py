"""Kubernetes quantities (``512Mi``, ``500m``, ``1e9``) as floats, through the official client's parser."""

from __future__ import annotations

import math

from kubernetes.utils.quantity import parse_quantity as _k8s_parse_quantity


def parse_quantity(value: str | int | float) -> float:
    """``"512Mi"`` -> 536870912.0, ``"500m"`` -> 0.5. Raises ``ValueError`` naming the value."""
    try:
        return float(_k8s_parse_quantity(value))  # type: ignore[no-untyped-call]
    except (ValueError, TypeError) as error:
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from error


def quota_step(resource: str) -> float:
    """The smallest step of a ResourceQuota resource as its quantities are written: a millicore for CPU, a byte for
    memory, one for counts (pods)."""
    return 0.001 if resource.endswith("cpu") else 1.0


def lowered_hard(used: float, level: float, resource: str) -> float:
    """The hard limit that makes ``used / hard`` the level (fault ``quota-usage``), on the resource's step.

    Rounded down, so the ratio is the level or just past it; a level of exactly 1 gives ``hard == used``. A count
    (pods) moves in whole steps, so a level between two of them is reached only approximately.
    """
    if used <= 0:
        raise ValueError("the namespace uses none of this resource: no hard limit makes used/hard a level")
    if level <= 0:
        raise ValueError(f"quota level must be above 0, got {level:g}")
    step = quota_step(resource)
    hard = math.floor(used / level / step + 1e-9) * step
    return max(step, round(hard, 3))


def format_quota(value: float, resource: str) -> str:
    """A quota quantity as Kubernetes writes it: CPU in millicores (``8500m``), everything else a whole number."""
    if resource.endswith("cpu"):
        return f"{round(value * 1000)}m"
    return str(round(value))
