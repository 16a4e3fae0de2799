"""The kubelet's CrashLoopBackOff: when a crashing container exits and when it is restarted.

The kubelet restarts an exited container after a back-off delay of 10 s, doubled after every restart and capped
at 300 s; the delay starts over at 10 s once the container has run fine for 10 minutes. A restart never happens
sooner than the back-off allows, so asking for restarts faster than that yields fewer of them in the window.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKOFF_INITIAL_S = 10.0
BACKOFF_MAX_S = 300.0
BACKOFF_RESET_S = 600.0


def backoff_delay(consecutive: int) -> float:
    """The delay before the restart that follows the ``consecutive``-th quick crash (0-based)."""
    return min(BACKOFF_INITIAL_S * 2.0 ** min(consecutive, 16), BACKOFF_MAX_S)


@dataclass(frozen=True)
class CrashSchedule:
    """Absolute times a container exits (``crashes``) and is started again (``restarts``), pairwise."""

    crashes: tuple[float, ...]
    restarts: tuple[float, ...]

    def truncated(self, at: float) -> CrashSchedule:
        """The schedule once the fault is fixed at ``at``: later crashes are gone, a pending restart stays."""
        keep = [i for i, crash in enumerate(self.crashes) if crash <= at]
        return CrashSchedule(tuple(self.crashes[i] for i in keep), tuple(self.restarts[i] for i in keep))

    def restarts_by(self, t: float) -> int:
        """How many restarts have happened at time ``t`` (a restart at exactly ``t`` counts)."""
        return sum(1 for restart in self.restarts if restart <= t)

    def waiting_at(self, t: float) -> bool:
        """True while the container is exited and waiting for its back-off to expire."""
        return any(crash <= t < restart for crash, restart in zip(self.crashes, self.restarts, strict=True))

    def last_crash_by(self, t: float) -> float | None:
        """When the container last exited, at or before ``t``."""
        past = [crash for crash in self.crashes if crash <= t]
        return past[-1] if past else None

    def last_start_by(self, t: float) -> float | None:
        """When the container was last restarted, at or before ``t``."""
        past = [restart for restart in self.restarts if restart <= t]
        return past[-1] if past else None

    def change_times(self) -> tuple[float, ...]:
        return tuple(sorted({*self.crashes, *self.restarts}))


def crash_schedule(start: float, restarts: int, *, over_s: float = 0.0, run_s: float = 0.0) -> CrashSchedule:
    """The crash/restart times of a container that must be restarted ``restarts`` times from ``start``.

    ``over_s`` > 0 spreads the restarts evenly: the i-th is wanted at ``start + over_s * i / restarts``, and the
    container exits just early enough for its back-off to end then; when the back-off is longer than the
    spacing, the restart comes as soon as the back-off allows instead (later than wanted). ``over_s`` = 0 makes
    the container exit immediately after every start (``run_s`` after it, if given), i.e. as fast as the
    kubelet allows: restarts at +10 s, +30 s, +70 s, +150 s, +310 s, +610 s, then every 300 s.
    """
    if restarts < 0:
        raise ValueError(f"crash-loop needs a non-negative number of restarts, got {restarts}")
    if over_s < 0 or run_s < 0:
        raise ValueError("crash-loop timings must not be negative")
    crashes: list[float] = []
    starts: list[float] = []
    last_start = start
    consecutive = 0
    for i in range(1, restarts + 1):
        earliest = last_start + run_s
        wanted = start + over_s * i / restarts if over_s > 0 else None
        delay = backoff_delay(consecutive)
        crash = earliest if wanted is None else max(earliest, wanted - delay)
        if i > 1 and crash - last_start >= BACKOFF_RESET_S:
            # It ran fine for 10 minutes before this exit: the kubelet's back-off starts over.
            consecutive = 0
            delay = backoff_delay(0)
            crash = earliest if wanted is None else max(earliest, wanted - delay)
        crashes.append(crash)
        starts.append(crash + delay)
        consecutive += 1
        last_start = crash + delay
    return CrashSchedule(tuple(crashes), tuple(starts))
