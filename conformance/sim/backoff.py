"""The kubelet's CrashLoopBackOff: when a crashing container exits and when it is restarted.

This is the kubelet's per-container ``flowcontrol.Backoff`` (client-go ``util/flowcontrol/backoff.go``), created
in ``pkg/kubelet/kubelet.go`` with an initial 10 s and a maximum of 300 s (``backOffPeriod`` and
``MaxContainerBackOff``; since 1.32 ``newCrashLoopBackOff`` returns ``initialCrashLoopBackOff`` and
``MaxCrashLoopBackOff``, the same values unless the alpha gates ReduceDefaultCrashLoopBackOffDecay or
KubeletCrashLoopBackOffMax are on), and consulted by ``kubeGenericRuntimeManager.doBackOff``
(``pkg/kubelet/kuberuntime/kuberuntime_manager.go``) when an exited container is to be started again:

* the first exit finds no back-off entry (``IsInBackOffSince`` is false): the container is restarted at once and
  ``Next`` creates the entry with 10 s;
* every later exit waits while ``now - finishedAt < entry.backoff`` (the container is ``CrashLoopBackOff``
  meanwhile), then ``Next`` doubles the entry, capped at 300 s: waits of 0, 10, 20, 40, 80, 160, 300, 300 ... s;
* an entry older than ``2 * MaxContainerBackOff`` (``hasExpired``: the exit came more than 10 minutes after the
  last restart, i.e. the container ran fine that long) counts as absent: that exit is restarted at once again.

A restart never happens sooner than the back-off allows, so asking for restarts faster than that yields fewer of
them in the window.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

# pkg/kubelet/kubelet.go backOffPeriod: the first wait, after the immediate first restart.
BACKOFF_INITIAL_S = 10.0
# pkg/kubelet/kubelet.go MaxContainerBackOff.
BACKOFF_MAX_S = 300.0
# flowcontrol hasExpired: an entry not moved for 2 * maxDuration is forgotten (the back-off starts over).
BACKOFF_RESET_S = 2 * BACKOFF_MAX_S
# kuberuntime: an OOM-killed container's exit code (128 + SIGKILL); any other crash here exits 1.
OOM_EXIT_CODE = 137


@dataclass(frozen=True)
class BackoffEntry:
    """The kubelet's back-off record of one container: the wait the next exit gets, and when it was last moved
    (the last restart's time, ``lastUpdate``)."""

    delay: float
    last_update: float


def restart_after(entry: BackoffEntry | None, crash: float) -> tuple[float, BackoffEntry]:
    """When a container that exits at ``crash`` is started again, and the back-off entry after that restart."""
    if entry is None or crash - entry.last_update > BACKOFF_RESET_S:
        # No (live) entry: not in back-off, restarted at once; Next creates the entry with the initial period.
        return crash, BackoffEntry(BACKOFF_INITIAL_S, crash)
    restart = crash + entry.delay
    return restart, BackoffEntry(min(entry.delay * 2.0, BACKOFF_MAX_S), restart)


@dataclass(frozen=True)
class CrashSchedule:
    """Absolute times a container exits (``crashes``) and is started again (``restarts``), pairwise.

    ``entries`` is the kubelet's back-off entry after each restart (a later loop on the same container goes on
    from it); ``reason`` and ``exit_code`` are what its status reports as the last termination.
    """

    crashes: tuple[float, ...]
    restarts: tuple[float, ...]
    entries: tuple[BackoffEntry, ...] = ()
    reason: str = "Error"
    exit_code: int = 1

    def truncated(self, at: float) -> CrashSchedule:
        """The schedule once the fault is fixed at ``at``: later crashes are gone, a pending restart stays."""
        keep = bisect.bisect_right(self.crashes, at)
        return CrashSchedule(
            self.crashes[:keep], self.restarts[:keep], self.entries[:keep], self.reason, self.exit_code
        )

    def joined(self, later: CrashSchedule) -> CrashSchedule:
        """This schedule followed by ``later`` (whose first crash comes after this one's last restart)."""
        return CrashSchedule(
            self.crashes + later.crashes,
            self.restarts + later.restarts,
            self.entries + later.entries,
            self.reason,
            self.exit_code,
        )

    def restarts_by(self, t: float) -> int:
        """How many restarts have happened at time ``t`` (a restart at exactly ``t`` counts)."""
        return bisect.bisect_right(self.restarts, t)

    def waiting_at(self, t: float) -> bool:
        """True while the container is exited and waiting for its back-off to expire."""
        i = bisect.bisect_right(self.crashes, t) - 1
        return i >= 0 and t < self.restarts[i]

    def last_crash_by(self, t: float) -> float | None:
        """When the container last exited, at or before ``t``."""
        i = bisect.bisect_right(self.crashes, t)
        return self.crashes[i - 1] if i else None

    def last_start_by(self, t: float) -> float | None:
        """When the container was last restarted, at or before ``t``."""
        i = bisect.bisect_right(self.restarts, t)
        return self.restarts[i - 1] if i else None

    def last_entry(self) -> BackoffEntry | None:
        """The back-off entry after the last restart of the schedule (None: no restart in it)."""
        return self.entries[-1] if self.entries else None

    def change_times(self) -> tuple[float, ...]:
        return tuple(sorted({*self.crashes, *self.restarts}))


def crash_schedule(
    start: float,
    restarts: int,
    *,
    over_s: float = 0.0,
    run_s: float = 0.0,
    entry: BackoffEntry | None = None,
) -> CrashSchedule:
    """The crash/restart times of a container that must be restarted ``restarts`` times from ``start``.

    ``over_s`` > 0 spreads the restarts evenly: the i-th is wanted at ``start + over_s * i / restarts``, and the
    container exits just early enough for its back-off to end then; when the back-off is longer than the
    spacing, the restart comes as soon as the back-off allows instead (later than wanted). ``over_s`` = 0 makes
    the container exit immediately after every start (``run_s`` after it, if given), i.e. as fast as the
    kubelet allows: restarts at +0 s, +10 s, +30 s, +70 s, +150 s, +310 s, +610 s, then every 300 s.
    ``entry`` is the container's back-off entry left by an earlier loop (None: it has none).
    """
    if restarts < 0:
        raise ValueError(f"crash-loop needs a non-negative number of restarts, got {restarts}")
    if over_s < 0 or run_s < 0:
        raise ValueError("crash-loop timings must not be negative")
    crashes: list[float] = []
    starts: list[float] = []
    entries: list[BackoffEntry] = []
    last_start = start
    for i in range(1, restarts + 1):
        earliest = last_start + run_s
        crash = earliest
        if over_s > 0:
            wanted = start + over_s * i / restarts
            # Exit just early enough for the back-off's wait to end when the restart is wanted ...
            crash = max(earliest, wanted - (entry.delay if entry is not None else 0.0))
            if entry is not None and crash - entry.last_update > BACKOFF_RESET_S:
                # ... unless it ran fine long enough for the back-off to start over: then it restarts at once.
                crash = max(earliest, wanted)
        restart, entry = restart_after(entry, crash)
        crashes.append(crash)
        starts.append(restart)
        entries.append(entry)
        last_start = restart
    return CrashSchedule(tuple(crashes), tuple(starts), tuple(entries))


def held_crash_schedule(
    first_crash: float,
    until: float,
    *,
    run_s: float,
    entry: BackoffEntry | None = None,
    reason: str = "Error",
    exit_code: int = 1,
) -> CrashSchedule:
    """A container that exits ``run_s`` after every start, from ``first_crash`` on, for every exit up to ``until``.

    This is a crash loop held as a state: nothing asks for a number of restarts, the back-off decides them.
    """
    if run_s < 0:
        raise ValueError("crash-loop timings must not be negative")
    crashes: list[float] = []
    starts: list[float] = []
    entries: list[BackoffEntry] = []
    crash = first_crash
    while crash <= until:
        restart, entry = restart_after(entry, crash)
        crashes.append(crash)
        starts.append(restart)
        entries.append(entry)
        crash = restart + run_s
    return CrashSchedule(tuple(crashes), tuple(starts), tuple(entries), reason, exit_code)
