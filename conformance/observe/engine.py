"""The live engine: one wave of scenario runs from healthy period to resolution, for every backend.

A backend starts its world, builds a :class:`Lane` per world it runs (the twin runs several side by side, a
Kubernetes backend one) and hands :meth:`Engine.run_wave` a :class:`FaultDriver` that applies and reverts its
faults. The engine does the rest, the same way for the twin, kind and an existing cluster:

1. **healthy period** (:class:`HealthyPeriod`): wait until the world is ready (every target scraped), let range
   windows fill, then judge one pipeline cycle of healthy world: a documented alert pending, firing or notified
   then is recorded at a negative time and fails its run;
2. **fault**: every run's fault applied at once; each run's revert counts as registered before its fault is
   applied, so it runs on any way out (failure, timeout, Ctrl-C), a half-applied fault included;
3. **hold**: the sources polled; a run is reverted once every receiver it expects was notified and, for a fault
   depth 3 proved a lasting state, its sustain has passed (the alert must keep firing meanwhile), or at the
   latest when its last expected notification is overdue (a run depth 3 predicts never fires is watched as long
   as the others, not for its whole hold);
4. **resolution**: after its revert, a run whose receivers send resolved notifications waits for them until each
   is overdue; every wait is bounded by one hard deadline.

A high-availability run (its ``run.loss``) loses one replica of the stack at its moment, once the alert is
pending or once its set-up notified it, through a driver that is also a :class:`ReplicaDriver`; with replicas,
a run stays watched :attr:`~conformance.observe.expectations.Expectation.settle_s` past its last firing
notification, so a duplicate is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from conformance.errors import BackendError, ConformanceError, RevertError
from conformance.model.run import StatusCallback
from conformance.observe.watch import RunWatch, Watcher

#: Seconds past the last run's resolution deadline before the engine gives up on a wave.
SLACK_S = 5.0


class FaultDriver(Protocol):
    """How a backend changes its world: the only part of a live run that differs between backends."""

    def apply(self, watch: RunWatch) -> None:
        """Apply ``watch``'s fault; a :class:`ConformanceError` says it could not (its revert still runs)."""
        ...

    def revert(self, watch: RunWatch) -> None:
        """Undo ``watch``'s fault, also when it was only half applied. Called once per applied run."""
        ...

    def check_alive(self) -> None:
        """Raise :class:`BackendError` when the world stopped working (a process died)."""
        ...


@runtime_checkable
class ReplicaDriver(Protocol):
    """A backend that can lose one replica of its alerting stack (high-availability scenarios)."""

    def lose(self, watch: RunWatch) -> str:
        """Lose the replica ``watch.run.loss`` names, now; returns which one (``prometheus-0``). A
        :class:`ConformanceError` says it could not."""
        ...


@dataclass
class Lane:
    """One world of a wave: the sources its watcher reads and the runs whose faults happen there."""

    name: str
    watcher: Watcher
    watches: list[RunWatch] = field(default_factory=list)


def _nothing_missing() -> list[str]:
    return []


@dataclass(frozen=True)
class HealthyPeriod:
    """How long the world is watched healthy before the faults, in the backend's clock seconds.

    The judged period starts ``fill_s`` after the world is ready (``not_ready`` empty), or at once when
    ``judge_from_start`` (windows already full: a backfilled warm-up), and lasts ``judged_s``, and at least
    ``after_ready_s`` past readiness (so live scrapes, not only a backfill, are judged).
    """

    judged_s: float
    not_ready: Callable[[], list[str]] = _nothing_missing
    ready_timeout_s: float = 0.0
    fill_s: float = 0.0
    judge_from_start: bool = False
    after_ready_s: float = 0.0


@dataclass
class Engine:
    """Runs waves (see the module docstring). ``label`` opens every status line (``twin x20``, ``kind``)."""

    label: str
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    poll_s: float
    status: StatusCallback
    phases: dict[str, float] = field(default_factory=dict)  # "<wave> healthy period" / "<wave> faults" -> seconds

    def run_wave(self, name: str, lanes: Sequence[Lane], driver: FaultDriver, healthy: HealthyPeriod) -> float:
        """One wave, every step bounded; returns how long the healthy period was judged.

        Every applied fault is reverted before this returns or raises; reverts that failed are raised together
        as one :class:`RevertError` once all others ran.
        """
        watches = [watch for lane in lanes for watch in lane.watches]
        mark = self.clock()
        judged = self._healthy(name, lanes, driver, healthy)
        self.phases[f"{name} healthy period".strip()] = round(self.clock() - mark, 3)
        mark = self.clock()
        failures: list[str] = []
        applied: list[RunWatch] = []
        try:
            self._apply(watches, driver, applied)
            self._hold(name, lanes, driver, applied, failures)
        finally:
            self._revert_rest(applied, driver, failures)
            self.phases[f"{name} faults".strip()] = round(self.clock() - mark, 3)
            for lane in lanes:
                lane.watcher.earlier.extend(lane.watches)
        if failures:
            raise RevertError("could not revert every fault: " + "; ".join(failures))
        return judged

    # -- healthy period ---------------------------------------------------------------------------------------

    def _healthy(self, name: str, lanes: Sequence[Lane], driver: FaultDriver, healthy: HealthyPeriod) -> float:
        started = self.clock()
        judged_from: float | None = started if healthy.judge_from_start else None
        end: float | None = None
        while end is None or self.clock() < end:
            now = self.clock()
            if end is None:
                driver.check_alive()
                missing = healthy.not_ready()
                if not missing:
                    judged_from = now + healthy.fill_s if judged_from is None else judged_from
                    end = max(judged_from + healthy.judged_s, now + healthy.after_ready_s)
                elif now > started + healthy.ready_timeout_s:
                    raise BackendError(f"Prometheus did not scrape {', '.join(missing[:5])} in time")
            judging = judged_from is not None and now >= judged_from
            for lane in lanes:
                lane.watcher.judged_from = judged_from
                lane.watcher.poll(lane.watches, record=judging)
            if judging and judged_from is not None and end is not None:
                self.status(f"{self.label} {name}: healthy period {now - judged_from:.1f}/{end - judged_from:.1f}s")
            else:
                line = "waiting for the first scrapes" if judged_from is None else "filling range windows"
                self.status(f"{self.label} {name}: {line} {now - started:.1f}s")
            self.sleep(self.poll_s if judging else min(self.poll_s, 0.1))
        assert end is not None and judged_from is not None
        return round(max(end - judged_from, 0.0), 3)

    # -- fault, hold, resolution ------------------------------------------------------------------------------

    def _apply(self, watches: Sequence[RunWatch], driver: FaultDriver, applied: list[RunWatch]) -> None:
        now = self.clock()
        for watch in watches:
            watch.injected(now)
        for watch in watches:
            applied.append(watch)  # before the apply: a half-applied fault is reverted too
            try:
                driver.apply(watch)
            except ConformanceError as error:
                watch.observation.error = f"cannot apply {watch.run.scenario.fault}: {error}"
                watch.done = True
                continue
            watch.observation.fault_applied = True
        _schedule_reverts(watches, now)

    def _hold(
        self,
        name: str,
        lanes: Sequence[Lane],
        driver: FaultDriver,
        applied: list[RunWatch],
        failures: list[str],
    ) -> None:
        watches = [watch for lane in lanes for watch in lane.watches]
        hard_deadline = max((w.revert_due for w in watches), default=self.clock())
        hard_deadline += max((_resolve_window(w) for w in watches), default=0.0) + SLACK_S
        hard_deadline += max((w.expectation.settle_s for w in watches), default=0.0)
        while not all(watch.done for watch in watches):
            now = self.clock()
            if now > hard_deadline:
                for watch in watches:
                    if not watch.done:
                        watch.event(now, "gave up waiting")
                break
            driver.check_alive()
            for lane in lanes:
                lane.watcher.poll(lane.watches)
            for watch in watches:
                self._lose_if_due(watch, driver)
                self._advance(watch, driver, applied, failures)
            self.status(self._status_line(name, watches, now, hard_deadline))
            self.sleep(self.poll_s)
        for lane in lanes:
            lane.watcher.poll(lane.watches)  # the last word: a resolved alert disappears from Prometheus

    def _advance(self, watch: RunWatch, driver: FaultDriver, applied: list[RunWatch], failures: list[str]) -> None:
        if watch.done:
            return
        now = self.clock()
        if watch.reverted_at is None:
            if (watch.all_notified() and now >= watch.hold_until) or now >= watch.revert_due:
                self._revert(watch, driver, applied, failures)
            return
        if (not watch.waiting_resolved() or now > watch.resolve_due()) and now >= watch.settled_at():
            watch.done = True

    def _lose_if_due(self, watch: RunWatch, driver: FaultDriver) -> None:
        """A high-availability run loses its replica at its moment: once the alert is pending (seen pending or
        firing on any replica), or once its set-up notified it."""
        loss = watch.run.loss
        if loss is None or watch.lost is not None or watch.reverted_at is not None:
            return
        observation = watch.observation
        if loss.when == "pending":
            due = observation.pending_s is not None
        else:
            due = any(
                n.status == "firing" and n.receiver.startswith(f"{loss.setup}/") for n in observation.notifications
            )
        if not due:
            return
        now = self.clock()
        if not isinstance(driver, ReplicaDriver):
            watch.lost = ""
            observation.error = f"{loss.describe()}: this backend cannot lose a replica"
            return
        try:
            watch.lost = driver.lose(watch)
        except ConformanceError as error:
            watch.lost = ""
            observation.error = f"{loss.describe()}: {error}"
            return
        watch.event(now, f"lost {watch.lost}")

    def _revert(self, watch: RunWatch, driver: FaultDriver, applied: list[RunWatch], failures: list[str]) -> None:
        if watch not in applied:
            return
        applied.remove(watch)
        try:
            driver.revert(watch)
        except KeyboardInterrupt:
            # A second Ctrl-C must not leave the other reverts undone: note it and carry on.
            failures.append(f"{watch.run.id}: revert interrupted")
        except Exception as error:  # every other fault still gets its revert
            failures.append(f"{watch.run.id}: {error}")
        finally:
            if watch.observation.fault_applied:
                watch.reverted(self.clock())

    def _revert_rest(self, applied: list[RunWatch], driver: FaultDriver, failures: list[str]) -> None:
        for watch in list(reversed(applied)):
            self._revert(watch, driver, applied, failures)

    def _status_line(self, name: str, watches: Sequence[RunWatch], now: float, deadline: float) -> str:
        pending = sum(1 for w in watches if w.observation.pending_s is not None and w.observation.firing_s is None)
        firing = sum(1 for w in watches if w.observation.firing_s is not None and w.reverted_at is None)
        notified = sum(1 for w in watches if w.all_notified())
        resolved = sum(1 for w in watches if w.resolved)
        started = min((w.injected_at for w in watches if w.injected_at is not None), default=now)
        return (
            f"{self.label} {name}: pending {pending}, firing {firing}, notified {notified}/{len(watches)}, "
            f"resolved {resolved} | {now - started:.1f}s of at most {deadline - started:.1f}s"
        )


def _schedule_reverts(watches: Sequence[RunWatch], injected: float) -> None:
    """Each run's latest revert: every expected notification overdue (an alert whose Alertmanager group had
    already notified waits a group_interval, and must not resolve meanwhile). A run depth 3 predicts never
    fires is watched as long as the runs that fire, not for its whole hold."""
    for watch in watches:
        expectation = watch.expectation
        budget = max((expectation.budget_s(r, True) for r in expectation.receivers), default=expectation.scrape_s)
        fire = expectation.fire_s if expectation.fire_s is not None else expectation.revert_s
        watch.revert_due = injected + fire + budget
        # A fault depth 3 proved a lasting state is held through its sustain, notified or not, so a pack whose
        # alert stops while the fault still holds is seen doing so.
        hold = expectation.hold_until_s()
        watch.hold_until = injected + (hold or 0.0)
        watch.revert_due = max(watch.revert_due, watch.hold_until)
    predicted = [w.revert_due for w in watches if w.observation.fault_applied and w.expectation.fire_s is not None]
    if predicted:
        for watch in watches:
            if watch.expectation.fire_s is None:
                watch.revert_due = min(watch.revert_due, max(predicted))


def _resolve_window(watch: RunWatch) -> float:
    expectation = watch.expectation
    return max((expectation.resolve_by_s(r, 0.0) for r in expectation.receivers if r.send_resolved), default=0.0)
