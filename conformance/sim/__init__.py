"""The simulated cluster: Kubernetes objects in virtual time, the faults that change them, and the metric
families kube-state-metrics, the kubelet/cAdvisor, node-exporter and the workloads expose for them.

Depth 3 samples :meth:`SimulatedCluster.stored_samples` in virtual time; the live twin serves
:meth:`SimulatedCluster.exposition` over HTTP against the wall clock.
"""

from conformance.sim.cluster import DEFAULT_EPOCH, KPS_CADVISOR_DROP, SimulatedCluster, merge_target_labels
from conformance.sim.faults import TIMING_KEYWORDS, FaultHandle
from conformance.sim.types import Sample, ScrapeTarget, SeriesKey, matching, series_key

__all__ = [
    "DEFAULT_EPOCH",
    "KPS_CADVISOR_DROP",
    "TIMING_KEYWORDS",
    "FaultHandle",
    "Sample",
    "ScrapeTarget",
    "SeriesKey",
    "SimulatedCluster",
    "matching",
    "merge_target_labels",
    "series_key",
]
