"""Stress processes started inside a container with ``pods/exec``, found again by a marker in their argv.

Each process runs under ``timeout -s KILL <max>`` so even a run killed with SIGKILL leaves nothing behind for
longer than the scenario's maximum hold; the revert kills them at once with ``pkill -f`` on the marker.
"""

from __future__ import annotations

MARKER = "alert-conformance-stress"


def in_background(program: str, max_s: float, marker: str = MARKER) -> str:
    """A shell command starting ``program`` (an interpreter and its quoted script: ``awk '...'``, ``sh -c '...'``)
    detached, killed after ``max_s`` at the latest, with ``marker`` in its argv for :func:`kill_command`."""
    return f"nohup timeout -s KILL {max_s} {program} {marker} >/dev/null 2>&1 &"


def memory_hog_argv(hold_bytes: int, max_s: int) -> list[str]:
    """An awk process holding a string of ``hold_bytes`` bytes until killed or ``max_s`` pass."""
    program = f'BEGIN{{s=sprintf("%{hold_bytes}s", ""); system("sleep {max_s}")}}'
    return ["sh", "-c", in_background(f"awk '{program}'", max_s)]


def cpu_burner_argv(processes: int, max_s: int) -> list[str]:
    """``processes`` awk busy loops (one core each, capped by the container's CPU limit)."""
    one = in_background("awk 'BEGIN{while(1){}}'", max_s)
    return ["sh", "-c", " ".join([one] * processes)]


def kill_pattern(marker: str) -> str:
    """A ``pkill -f`` pattern matching ``marker`` but not its own text: ``[a]lert-...``. ``pkill -f`` matches whole
    command lines and spares only itself, so with the bare marker it also kills the ``sh -c`` running it (whose
    command line holds the marker), and the exec ends with 137 before anything after it runs."""
    return f"[{marker[0]}]{marker[1:]}"


def kill_command(marker: str = MARKER) -> str:
    """A shell command killing every process started with ``marker``; it succeeds also when none is left."""
    return f"pkill -KILL -f '{kill_pattern(marker)}'; true"


def kill_argv() -> list[str]:
    """Kill every stress process of the suite in the container; exit 0 also when none is left."""
    return ["sh", "-c", kill_command()]


CGROUP_MEMORY_ARGV = [
    "sh",
    "-c",
    "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes",
]
