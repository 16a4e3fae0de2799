"""crash-loop-backoff: the crash-loop injector held as a state, with no restart count to reach.

On a real cluster the patched container keeps exiting after ``run_seconds`` until the revert restores the pod
template; the kubelet alone decides the restarts (at once, then 10 s doubling to 5 min). That is exactly what the
crash-loop injector already does, so this kind reuses it; only its level (restarts within a window) is absent.
"""

from __future__ import annotations

from conformance_plugins.crash_loop import CrashLoop


class CrashLoopBackOff(CrashLoop):
    fault = "crash-loop-backoff"

    def describe(self) -> str:
        return f"{super().describe()}, held until the revert"
