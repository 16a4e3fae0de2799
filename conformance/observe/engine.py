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

High availability: the runs of a lane that go through one :class:`~conformance.model.run.ReplicaLoss` (every
documented alert, in a world of their own) lose that replica of the stack together, once, through a driver that is
also a :class:`ReplicaDriver`. So that the one loss finds each alert at its moment (pending, or just notified by
the set-up), their faults are staggered (:func:`stagger`) so that every alert is predicted to fire at the same
instant: all are pending together just before it and notified together just after. A loss comes once every run of
its group reached its moment, or as soon as one of them would leave it (notified already, for a loss while
pending; about to be reverted); a run that waits for a loss after notifying keeps its fault until then. With
replicas, a run stays watched :attr:`~conformance.observe.expectations.Expectation.settle_s` past its last firing
notification, so a duplicate is counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from conformance.errors import BackendError, ConformanceError, RevertError
from conformance.model.run import ReplicaLoss, StatusCallback
from conformance.observe.expectations import TOLERANCE_S
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

    def lose(self, loss: ReplicaLoss, watch: RunWatch) -> str:
        """Lose the replica ``loss`` names, now, in ``watch``'s world (for a loss after notifying: the replica that
        sent ``watch``'s notification); returns which one (``prometheus-0``). A :class:`ConformanceError` says it
        could not."""
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
        for lane in lanes:
            stagger(lane.watches)
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
        """Apply every fault due now (a staggered run's later, from :meth:`_hold`), and schedule every revert."""
        now = self.clock()
        for watch in watches:
            watch.apply_at = now + watch.delay_s
        _schedule_reverts(watches)
        self._apply_due(watches, driver, applied)

    def _apply_due(self, watches: Sequence[RunWatch], driver: FaultDriver, applied: list[RunWatch]) -> None:
        now = self.clock()
        due = [w for w in watches if w.injected_at is None and w.apply_at is not None and w.apply_at <= now]
        for watch in due:
            watch.injected(now)
        for watch in due:
            applied.append(watch)  # before the apply: a half-applied fault is reverted too
            try:
                driver.apply(watch)
            except ConformanceError as error:
                watch.observation.error = f"cannot apply {watch.run.scenario.fault}: {error}"
                watch.done = True
                continue
            watch.observation.fault_applied = True

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
            self._apply_due(watches, driver, applied)
            for lane in lanes:
                lane.watcher.poll(lane.watches)
            for lane in lanes:
                for loss, group in _loss_groups(lane.watches).items():
                    self._lose_if_due(loss, group, driver)
            for watch in watches:
                self._advance(watch, driver, applied, failures)
            self.status(self._status_line(name, watches, now, hard_deadline))
            self.sleep(self.poll_s)
        for lane in lanes:
            lane.watcher.poll(lane.watches)  # the last word: a resolved alert disappears from Prometheus

    def _advance(self, watch: RunWatch, driver: FaultDriver, applied: list[RunWatch], failures: list[str]) -> None:
        if watch.done or watch.injected_at is None:
            return
        now = self.clock()
        if watch.reverted_at is None:
            # A run waiting to lose a replica after it notified keeps its fault until the loss (or overdue).
            # (A burst's alert may end on its own meanwhile: it is reverted as usual and loses the replica later.)
            held = watch.expectation.sustain_s is not None and any(
                loss.when == "notified" and loss.id not in watch.lost for loss in watch.run.losses
            )
            if (watch.all_notified() and now >= watch.hold_until and not held) or now >= watch.revert_due:
                self._revert(watch, driver, applied, failures)
            return
        if (not watch.waiting_resolved() or now > watch.resolve_due()) and now >= watch.settled_at():
            watch.done = True

    def _lose_if_due(self, loss: ReplicaLoss, group: Sequence[RunWatch], driver: FaultDriver) -> None:
        """The runs going through ``loss`` lose it together, once: when every one of them reached its moment
        (the alert pending, or notified by the loss's set-up), or as soon as one would leave it (notified while
        the loss is due while pending; about to be reverted). A run whose fault is not applied yet is waited for."""
        if any(loss.id in watch.lost for watch in group):
            return
        live = [w for w in group if w.observation.fault_applied and w.reverted_at is None]
        waiting = [w for w in group if w.injected_at is None and not w.done]
        if not live:
            return
        now = self.clock()
        leaving = any(_leaving(loss, w, now, self.poll_s) for w in live)
        if not (leaving or (all(_at_moment(loss, w) for w in live) and not waiting)):
            return
        name = ""
        problem = None
        if not isinstance(driver, ReplicaDriver):
            problem = f"{loss.describe()}: this backend cannot lose a replica"
        else:
            try:
                name = driver.lose(loss, next((w for w in live if _at_moment(loss, w)), live[0]))
            except ConformanceError as error:
                problem = f"{loss.describe()}: {error}"
        for watch in group:
            watch.lost[loss.id] = name
            if loss.component == "prometheus":
                expectation = watch.expectation
                watch.regrace_until = now + expectation.scrape_s + expectation.evaluation_s + TOLERANCE_S
            if problem is not None:
                watch.observation.error = watch.observation.error or problem
            elif watch.injected_at is not None:
                watch.event(now, lost_event(loss, name))
            else:
                watch.healthy.append((now, lost_event(loss, name)))  # before its own fault: a negative time, not noise

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


def _schedule_reverts(watches: Sequence[RunWatch]) -> None:
    """Each run's latest revert: every expected notification overdue (an alert whose Alertmanager group had
    already notified waits a group_interval, and must not resolve meanwhile). A run depth 3 predicts never
    fires is watched as long as the runs that fire, not for its whole hold."""
    for watch in watches:
        assert watch.apply_at is not None
        injected = watch.apply_at
        expectation = watch.expectation
        budget = max((expectation.budget_s(r, True) for r in expectation.receivers), default=expectation.scrape_s)
        fire = expectation.fire_s if expectation.fire_s is not None else expectation.revert_s
        watch.revert_due = injected + fire + budget
        # A fault depth 3 proved a lasting state is held through its sustain, notified or not, so a pack whose
        # alert stops while the fault still holds is seen doing so.
        hold = expectation.hold_until_s()
        watch.hold_until = injected + (hold or 0.0)
        watch.revert_due = max(watch.revert_due, watch.hold_until)
    predicted = [w.revert_due for w in watches if w.expectation.fire_s is not None]
    if predicted:
        for watch in watches:
            if watch.expectation.fire_s is None:
                watch.revert_due = min(watch.revert_due, max(predicted))


def _resolve_window(watch: RunWatch) -> float:
    expectation = watch.expectation
    return max((expectation.resolve_by_s(r, 0.0) for r in expectation.receivers if r.send_resolved), default=0.0)


def lost_event(loss: ReplicaLoss, name: str) -> str:
    """The timeline event of a replica lost: ``lost prometheus-0 (prometheus-replica-lost-while-pending)``."""
    return f"lost {name} ({loss.id})"


def _loss_groups(watches: Sequence[RunWatch]) -> dict[ReplicaLoss, list[RunWatch]]:
    groups: dict[ReplicaLoss, list[RunWatch]] = {}
    for watch in watches:
        for loss in watch.run.losses:
            groups.setdefault(loss, []).append(watch)
    return groups


def _notified_by(loss: ReplicaLoss, watch: RunWatch) -> bool:
    return any(
        n.status == "firing" and n.receiver.startswith(f"{loss.setup}/") for n in watch.observation.notifications
    )


def _at_moment(loss: ReplicaLoss, watch: RunWatch) -> bool:
    """Whether the run reached the moment its loss is for: its alert pending (seen pending or firing on any
    replica), or notified by the loss's set-up."""
    if loss.when == "pending":
        return watch.observation.pending_s is not None
    return _notified_by(loss, watch)


def _leaving(loss: ReplicaLoss, watch: RunWatch, now: float, poll_s: float) -> bool:
    """Whether waiting longer would miss the run's moment: notified already (a loss while pending); about to be
    reverted (at the next poll); or notified half a group_interval ago (a loss after notifying: later, it would
    meet the set-up's next flush of the group, and a peer killed as it sends cannot tell the other it did)."""
    notifications = watch.observation.notifications
    if loss.when == "pending" and any(n.status == "firing" for n in notifications):
        return True
    if loss.when == "notified" and watch.injected_at is not None:
        expectation = watch.expectation
        firing = [n.at_s for n in notifications if n.status == "firing" and n.receiver.startswith(f"{loss.setup}/")]
        intervals = [r.group_interval_s for r in expectation.receivers if r.name.startswith(f"{loss.setup}/")]
        if firing and intervals and now >= watch.injected_at + min(firing) + min(intervals) / expectation.scale / 2:
            return True
    return now + poll_s >= watch.revert_due


def stagger(watches: Sequence[RunWatch]) -> None:
    """Delay the faults of the runs that lose replicas so that depth 3 predicts every one of their alerts fires
    at the same instant: the run predicted to fire last goes in first, each other that much later. One loss then
    finds them all pending (just before that instant) or all just notified (just after), and the wave lasts about
    as long as its slowest run without the losses. Runs predicted never to fire go in at once."""
    losing = [watch for watch in watches if watch.run.losses]
    fires = [watch.expectation.fire_s for watch in losing if watch.expectation.fire_s is not None]
    if not fires:
        return
    latest = max(fires)
    for watch in losing:
        fire = watch.expectation.fire_s
        watch.delay_s = 0.0 if fire is None else round(latest - fire, 3)
