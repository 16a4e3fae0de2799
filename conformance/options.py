"""The run's settings as one typed object, read from pytest options (or built directly from a script)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Backend = Literal["twin", "kind", "cluster"]
KeepCluster = Literal["never", "on-failure", "always"]

DEFAULT_TIME_SCALE = 20.0
#: Depth 3's default budget: every process of the run together, and wall time. A CI runner has this to spare.
DEFAULT_BUDGET_MEMORY_BYTES = 2 * 2**30
DEFAULT_BUDGET_TIME_S = 600.0


@dataclass(frozen=True)
class Options:
    profile: str
    alert_pack: Path | None = None
    backend: Backend = "twin"
    time_scale: float = DEFAULT_TIME_SCALE
    report_dir: Path | None = None
    plan: bool = False
    kubeconfig: Path | None = None
    context: str | None = None
    cluster_name: str = "alert-conformance"
    keep_cluster: KeepCluster = "on-failure"
    allow_disruption: bool = False
    allow_namespaces: tuple[str, ...] = ()
    allow_nodes: bool = False
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    tools: dict[str, str] = field(default_factory=dict)  # tool name -> explicit path from an option
    #: Depth 3's budget, checked before it runs: all processes' memory together, and wall time. The memory budget
    #: also bounds the live twin's backfilled warm-up, checked before any lane starts.
    budget_memory_bytes: int = DEFAULT_BUDGET_MEMORY_BYTES
    budget_time_s: float = DEFAULT_BUDGET_TIME_S
