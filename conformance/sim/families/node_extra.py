"""node-exporter's default collectors beyond memory, CPU, load, filesystems and network: the clock (timex), file
descriptors (filefd), connection tracking (conntrack), virtual memory events (vmstat), disk I/O (diskstats),
slab memory and the textfile collector's error flag, as a healthy host reports them (the clock also as a
``clock-drift`` fault leaves it, :class:`conformance.sim.state.ClockFault`).

Collectors that are off by default (``systemd``) or report hardware a kind node has not (``mdadm`` arrays,
``bonding``) serve nothing. Kernel counters count since boot (the node's creation), at steady healthy rates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conformance.sim.exposition import Exposed
from conformance.sim.families.steady import steady_count
from conformance.sim.state import HEALTHY_CLOCK_OFFSET_S, HEALTHY_MAXERROR_S, NodeState

if TYPE_CHECKING:
    from conformance.sim.cluster import SimulatedCluster

#: The whole disk (node-exporter's default device exclusion keeps disks, drops their partitions).
DISK = "sda"
CONNTRACK_LIMIT = 131072
#: Linux's fs.file-max on 64-bit kernels since 5.x: effectively unlimited.
FILE_MAX = 9223372036854775807
_DISK_RATES = {  # per second: a quiet node
    "node_disk_reads_completed_total": 2.0,
    "node_disk_writes_completed_total": 20.0,
    "node_disk_read_bytes_total": 64 * 1024.0,
    "node_disk_written_bytes_total": 512 * 1024.0,
    "node_disk_read_time_seconds_total": 0.002,
    "node_disk_write_time_seconds_total": 0.04,
    "node_disk_io_time_seconds_total": 0.02,
    "node_disk_io_time_weighted_seconds_total": 0.05,
}
_VMSTAT_RATES = {
    "pgfault": 2000.0,
    "pgmajfault": 0.5,
    "pgpgin": 60.0,
    "pgpgout": 500.0,
    "pswpin": 0.0,
    "pswpout": 0.0,
    "oom_kill": 0.0,
}

_FAMILIES: dict[str, tuple[str, str]] = {
    "node_timex_offset_seconds": ("gauge", "Time offset in between local system and reference clock."),
    "node_timex_sync_status": ("gauge", "Is clock synchronized to a reliable server (1 = yes, 0 = no)."),
    "node_timex_maxerror_seconds": ("gauge", "Maximum error in seconds."),
    "node_timex_estimated_error_seconds": ("gauge", "Estimated error in seconds."),
    "node_filefd_allocated": ("gauge", "File descriptor statistics: allocated."),
    "node_filefd_maximum": ("gauge", "File descriptor statistics: maximum."),
    "node_nf_conntrack_entries": ("gauge", "Number of currently allocated flow entries for connection tracking."),
    "node_nf_conntrack_entries_limit": ("gauge", "Maximum size of connection tracking table."),
    "node_memory_Slab_bytes": ("gauge", "Memory information field Slab_bytes."),
    "node_textfile_scrape_error": ("gauge", "1 if there was an error opening or reading a file, 0 otherwise"),
    "node_disk_io_now": ("gauge", "The number of I/Os currently in progress."),
    **{name: ("counter", "Disk statistic " + name.removeprefix("node_disk_") + ".") for name in _DISK_RATES},
    **{f"node_vmstat_{field}": ("untyped", f"/proc/vmstat information field {field}.") for field in _VMSTAT_RATES},
}


def emit(cluster: SimulatedCluster, node: NodeState, t: float, out: Exposed) -> None:
    """The extra collectors' series of ``node`` (part of its node-exporter's answer)."""
    for name, (type_, help_) in _FAMILIES.items():
        out.declare(name, type_, help_)
    boot = node.created
    clock = node.clock
    # collector/timex.go (node-exporter): offset = timex.offset (us, or ns with STA_NANO) in seconds; sync_status
    # = 0 when adjtimex(2) returns TIME_ERROR (STA_UNSYNC set), else 1; maxerror = timex.maxerror (us) in seconds.
    out.add("node_timex_offset_seconds", {}, clock.offset(t) if clock else HEALTHY_CLOCK_OFFSET_S)
    out.add("node_timex_sync_status", {}, 1 if clock is None or clock.in_sync(t) else 0)
    out.add("node_timex_maxerror_seconds", {}, clock.maxerror(t) if clock else HEALTHY_MAXERROR_S)
    out.add("node_timex_estimated_error_seconds", {}, 0.00002)
    pods = sum(1 for pod in cluster.pods if pod.node == node.name and pod.job is None)
    out.add("node_filefd_allocated", {}, 2048 + 160 * pods)
    out.add("node_filefd_maximum", {}, float(FILE_MAX))
    out.add("node_nf_conntrack_entries", {}, 400 + 40 * pods)
    out.add("node_nf_conntrack_entries_limit", {}, CONNTRACK_LIMIT)
    out.add("node_memory_Slab_bytes", {}, float(node.spec.memory_bytes) * 0.02)
    out.add("node_textfile_scrape_error", {}, 0)
    disk = {"device": DISK}
    out.add("node_disk_io_now", disk, 0)
    for name, per_s in _DISK_RATES.items():
        # Times are fractional seconds; operations and bytes are whole counts.
        seconds = name.endswith("_seconds_total")
        out.add(name, disk, max(0.0, t - boot) * per_s if seconds else steady_count(per_s, boot, t))
    for field, per_s in _VMSTAT_RATES.items():
        out.add(f"node_vmstat_{field}", {}, steady_count(per_s, boot, t))
