"""Stress processes started inside a container with ``pods/exec``, found again by a marker in their argv.

Each process runs under ``timeout -s KILL <max>`` so even a run killed with SIGKILL leaves nothing behind for
longer than the scenario's maximum hold; the revert kills them at once with ``pkill -f`` on the marker.
"""

from __future__ import annotations

MARKER = "alert-conformance-stress"


def memory_hog_argv(hold_bytes: int, max_s: int) -> list[str]:
    """An awk process holding a string of ``hold_bytes`` bytes until killed or ``max_s`` pass."""
    program = f'BEGIN{{s=sprintf("%{hold_bytes}s", ""); system("sleep {max_s}")}}'
    return ["sh", "-c", f"nohup timeout -s KILL {max_s} awk '{program}' {MARKER} >/dev/null 2>&1 &"]


def cpu_burner_argv(processes: int, max_s: int) -> list[str]:
    """``processes`` awk busy loops (one core each, capped by the container's CPU limit)."""
    one = f"nohup timeout -s KILL {max_s} awk 'BEGIN{{while(1){{}}}}' {MARKER} >/dev/null 2>&1 &"
    return ["sh", "-c", " ".join([one] * processes)]


def kill_pattern(marker: str) -> str:
    """A ``pkill -f`` pattern matching ``marker`` but not its own text: ``[a]lert-...``. ``pkill -f`` matches whole
    command lines and spares only itself, so with the bare marker it also kills the ``sh -c`` running it (whose
    command line holds the marker), and the exec ends with 137 before anything after it runs."""
    return f"[{marker[0]}]{marker[1:]}"


def kill_argv() -> list[str]:
    """Kill every stress process of the suite in the container; exit 0 also when none is left."""
    return ["sh", "-c", f"pkill -KILL -f '{kill_pattern(MARKER)}'; true"]


CGROUP_MEMORY_ARGV = [
    "sh",
    "-c",
    "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes",
]
