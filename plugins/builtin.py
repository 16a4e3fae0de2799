"""The built-in injectors, one per fault kind of :data:`conformance.model.scenario.FAULT_KINDS`."""

from __future__ import annotations

from conformance_plugins.clock_drift import ClockDrift
from conformance_plugins.control_plane_down import ControlPlaneDown
from conformance_plugins.cordon_node import CordonNode
from conformance_plugins.cpu_near_limit import CpuNearLimit
from conformance_plugins.cpu_throttling import CpuThrottling
from conformance_plugins.crash_loop import CrashLoop
from conformance_plugins.crash_loop_backoff import CrashLoopBackOff
from conformance_plugins.error_counter import ErrorCounter
from conformance_plugins.error_rate import ErrorRate
from conformance_plugins.fail_job import FailJob
from conformance_plugins.fill_node_filesystem import FillNodeFilesystem
from conformance_plugins.fill_volume import FillVolume
from conformance_plugins.hpa_maxed import HpaMaxed
from conformance_plugins.job_too_long import JobTooLong
from conformance_plugins.kill_pods import KillPods
from conformance_plugins.ksm_list_errors import KsmListErrors
from conformance_plugins.kubelets_down import KubeletsDown
from conformance_plugins.latency import Latency
from conformance_plugins.memory_near_limit import MemoryNearLimit
from conformance_plugins.metric_rate_drop import MetricRateDrop
from conformance_plugins.network_flood import NetworkFlood
from conformance_plugins.no_fault import NoFault
from conformance_plugins.node_memory_pressure import NodeMemoryPressure
from conformance_plugins.node_not_ready import NodeNotReady
from conformance_plugins.pdb_unsatisfiable import PdbUnsatisfiable
from conformance_plugins.pv_failed import PvFailed
from conformance_plugins.quota_usage import QuotaUsage
from conformance_plugins.stuck_rollout import StuckRollout
from conformance_plugins.target_down import TargetDown
from conformance_plugins.unavailable_replicas import UnavailableReplicas

from conformance.kube.faults import Injector

BUILTIN_INJECTORS: tuple[type[Injector], ...] = (
    KillPods,
    CrashLoop,
    CrashLoopBackOff,
    UnavailableReplicas,
    StuckRollout,
    FillVolume,
    CordonNode,
    NodeNotReady,
    MemoryNearLimit,
    CpuNearLimit,
    CpuThrottling,
    NodeMemoryPressure,
    FailJob,
    TargetDown,
    ErrorRate,
    Latency,
    MetricRateDrop,
    ErrorCounter,
    NetworkFlood,
    NoFault,
    JobTooLong,
    PvFailed,
    KsmListErrors,
    HpaMaxed,
    QuotaUsage,
    PdbUnsatisfiable,
    ControlPlaneDown,
    KubeletsDown,
    FillNodeFilesystem,
    ClockDrift,
)
