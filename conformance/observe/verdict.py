"""Judge one live observation against its :class:`~conformance.observe.expectations.Expectation`.

Backends describe what they saw in :class:`~conformance.model.run.Observation` with this timeline vocabulary
(seconds from the fault's injection; negative seconds are the healthy period before any fault)::

    pending | firing | in alertmanager <setup> | suppressed <setup> | notified <receiver> | reverted
    | resolved | resolved notified <receiver> | group already notified <receiver>
    | stopped firing while the fault holds | still active after it resolved, in alertmanager <setup>

Notifications are counted, not assumed: each receiver must get one notification per alert group, carrying each
alert once (:func:`duplicate_problems`), also with several Prometheus and Alertmanager replicas.

``<receiver>`` is qualified (``<set-up>/<receiver>``). A verdict is ``pass`` or ``fail`` (``skip`` when the
backend skipped the run); a failure lists every check that broke, then the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from conformance.model.run import Notification, Observation
from conformance.observe.expectations import Expectation, ReceiverExpectation
from conformance.observe.watch import HEALTHY, STALE, STOPPED

Outcome = Literal["pass", "fail", "skip"]


@dataclass
class LiveVerdict:
    """The outcome of one scenario run, the checks that broke, and the measured times (wall seconds)."""

    run_id: str
    outcome: Outcome
    problems: list[str] = field(default_factory=list)
    fire_s: float | None = None
    notify_s: float | None = None
    receivers: list[str] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)
    #: Notifications of this run per receiver and status (``{"webhook/hook": {"firing": 1, "resolved": 1}}``).
    notifications: dict[str, dict[str, int]] = field(default_factory=dict)

    def message(self) -> str:
        lines = [f"{self.run_id}: " + problem for problem in self.problems]
        lines.append(render_timeline(self.timeline))
        return "\n".join(lines)


def render_timeline(timeline: list[tuple[float, str]]) -> str:
    if not timeline:
        return "timeline: nothing observed"
    rows = [f"  {at:+9.2f}s  {event}" for at, event in sorted(timeline, key=lambda item: item[0])]
    return "timeline (wall seconds from the fault; negative = healthy period):\n" + "\n".join(rows)


def _first(observation: Observation, receiver: str, status: str, after: float | None = None) -> float | None:
    times = [
        n.at_s
        for n in observation.notifications
        if n.receiver == receiver and n.status == status and (after is None or n.at_s >= after)
    ]
    return min(times) if times else None


def _judge_receiver(
    expectation: Expectation, receiver: ReceiverExpectation, observation: Observation, problems: list[str]
) -> float | None:
    if receiver.problem:
        problems.append(receiver.problem)
        return None
    events = {event for _, event in observation.timeline}
    notified = _first(observation, receiver.name, "firing")
    if notified is None:
        others = sorted({n.receiver for n in observation.notifications if n.status == "firing"})
        elsewhere = f"; it reached {', '.join(others)} instead" if others else ""
        problems.append(f"no notification reached {receiver.name}{elsewhere}")
        return None
    group_notified = f"group already notified {receiver.name}" in events
    if expectation.fire_s is None:
        problems.append(f"notified {receiver.name} at {notified:.2f}s although depth 3 predicted it never fires")
        return notified
    earliest = expectation.earliest_notify_s()
    latest = expectation.latest_notify_s(receiver, group_notified)
    assert latest is not None and earliest is not None
    if notified < earliest:
        problems.append(
            f"notified {receiver.name} at {notified:.2f}s, before the predicted time-to-fire "
            f"{expectation.fire_s:.2f}s (less one evaluation interval {expectation.evaluation_s:.2f}s)"
        )
    if notified > latest:
        parts = "scrape + evaluation + group_wait" + (" + group_interval" if group_notified else "")
        problems.append(
            f"notified {receiver.name} at {notified:.2f}s, later than predicted {expectation.fire_s:.2f}s + "
            f"budget {expectation.budget_s(receiver, group_notified):.2f}s ({parts}) = {latest:.2f}s"
        )
    if receiver.send_resolved:
        reverted = observation.reverted_s
        early = _first(observation, receiver.name, "resolved")
        if reverted is None:
            problems.append("the fault was never reverted, so no resolved notification could follow")
        else:
            if early is not None and early < reverted:
                problems.append(f"{receiver.name} got a resolved notification at {early:.2f}s, before the revert")
            resolved = _first(observation, receiver.name, "resolved", after=reverted)
            due = expectation.resolve_by_s(receiver, reverted)
            if resolved is None:
                problems.append(
                    f"no resolved notification reached {receiver.name} after the revert at {reverted:.2f}s "
                    f"(send_resolved is set; expected by {due:.2f}s)"
                )
            elif resolved > due:
                problems.append(
                    f"resolved notification reached {receiver.name} at {resolved:.2f}s, later than {due:.2f}s"
                )
    return notified


def _judge_sustain(expectation: Expectation, observation: Observation, problems: list[str]) -> None:
    """A fault depth 3 proved a lasting state keeps the alert firing until the revert: stopping earlier fails."""
    if expectation.sustain_s is None or observation.firing_s is None:
        return
    heals = expectation.heals_s if expectation.heals_s is not None else float("inf")
    # From ``heals_s`` on, the fault's own mechanics may end the state (a lost node's pods started elsewhere).
    stops = [at for at, event in observation.timeline if event == STOPPED and 0 <= at < heals]
    reverted = observation.reverted_s
    if stops and (reverted is None or min(stops) < reverted):
        until = f" (reverted at {reverted:.2f}s)" if reverted is not None else ""
        problems.append(
            f"fired at {observation.firing_s:.2f}s, then resolved at +{min(stops):.2f}s while the fault still "
            f"holds{until}"
        )


def stale_problems(observation: Observation) -> list[str]:
    """An Alertmanager that still shows the alert active after Prometheus resolved it: it was never told, so it
    shows a resolved problem as current (and, past its resolve timeout, resolves it on its own, late)."""
    resolved = next((at for at, event in observation.timeline if event == "resolved"), None)
    return [
        f"{event.removeprefix(STALE).strip()} still showed the alert active at {at:.2f}s, after Prometheus "
        f"resolved it at {resolved if resolved is not None else at:.2f}s (stale: it was not told)"
        for at, event in observation.timeline
        if event.startswith(STALE)
    ]


def notification_counts(observation: Observation) -> dict[str, dict[str, int]]:
    """How many notifications of the run each receiver got, by status (counted, one per captured post)."""
    counts: dict[str, dict[str, int]] = {}
    for notification in observation.notifications:
        per_status = counts.setdefault(notification.receiver, {})
        per_status[notification.status] = per_status.get(notification.status, 0) + 1
    return {receiver: dict(sorted(counts[receiver].items())) for receiver in sorted(counts)}


def _senders(*notifications: Notification) -> str:
    names = [n.sender for n in notifications if n.sender]
    return f", sent by {' and '.join(names)}" if len(names) == len(notifications) else ""


def duplicate_problems(expectation: Expectation, observation: Observation) -> list[str]:
    """Exactly one notification per receiver per alert group, carrying each alert once.

    * one notification carrying the same alert (same identifying labels) twice: two alerts Alertmanager could
      not merge, e.g. a rule label whose value differs per Prometheus replica;
    * a second notification to the same receiver with the same alerts of the run and the same status, and the
      same content (every alert it carried, with its status), sooner than the route's ``repeat_interval``:
      Alertmanagers that did not share their notification log (not meshed), or alerts that reached two groups.
    """
    problems: list[str] = []
    repeat = {r.name: r.repeat_interval_s / expectation.scale for r in expectation.receivers}
    for notification in observation.notifications:
        twice = sorted({key for key in notification.instances if notification.instances.count(key) > 1})
        for key in twice:
            problems.append(
                f"one notification carried the alert twice: {notification.status} to {notification.receiver} at "
                f"{notification.at_s:.2f}s{_senders(notification)} ({key})"
            )
    by_receiver: dict[str, list[Notification]] = {}
    for notification in sorted(observation.notifications, key=lambda n: n.at_s):
        by_receiver.setdefault(notification.receiver, []).append(notification)
    for receiver, sent in by_receiver.items():
        for before, after in pairwise(sent):
            if before.status != after.status or set(before.instances) != set(after.instances):
                continue
            if before.content != after.content:
                continue  # the group changed (another alert joined, fired or resolved): a new notification is due
            if after.at_s - before.at_s >= repeat.get(receiver, float("inf")):
                continue  # Alertmanager's repeat of an alert still firing
            what = "notified" if after.status == "firing" else "sent the resolved notification to"
            problems.append(
                f"{what} {receiver} twice with the same alerts (at {before.at_s:.2f}s and {after.at_s:.2f}s"
                f"{_senders(before, after)})"
            )
    return problems


def _judge_silence(expectation: Expectation, observation: Observation, problems: list[str]) -> None:
    """What must not happen: a silent scenario fires or notifies; an alert documented to notify nobody reaches
    a receiver that has an integration."""
    if expectation.silent:
        why = "although the document says this failure must not raise it"
        if observation.firing_s is not None:
            problems.append(f"fired at {observation.firing_s:.2f}s {why}")
        for notification in observation.notifications:
            if notification.status == "firing":
                problems.append(f"notified {notification.receiver} at {notification.at_s:.2f}s {why}")
                break
    problems.extend(silent_for_problems(observation))
    if not expectation.notifies:
        loud = sorted(receiver for receiver in _reached(observation) if receiver not in expectation.quiet_receivers)
        if loud:
            problems.append(f"notified {', '.join(loud)} although the document says this alert notifies nobody")


def silent_for_problems(observation: Observation) -> list[str]:
    """A scenario documented to raise the alert only for some objects (``silent_for``): every instance matching
    one of the others that went pending, fired or notified while the fault held, per matcher, at its first."""
    why = "although the document says it stays silent for it"
    by_matcher: dict[str, dict[str, float]] = {}
    for seen in observation.unsilenced:
        events = by_matcher.setdefault(seen.matcher, {})
        events[seen.event] = min(events.get(seen.event, seen.at_s), seen.at_s)
    problems = []
    for matcher, events in by_matcher.items():
        if "firing" in events:
            problems.append(f"fired for {matcher} at {events['firing']:.2f}s {why}")
        elif "pending" in events:
            problems.append(f"was pending for {matcher} at {events['pending']:.2f}s {why}")
        for event, at in sorted(events.items(), key=lambda item: item[1]):
            if event.startswith("notified "):
                problems.append(f"{event} for {matcher} at {at:.2f}s {why}")
    return problems


def _reached(observation: Observation) -> set[str]:
    """Every receiver a firing notification of the run reached, healthy period included."""
    reached = {n.receiver for n in observation.notifications if n.status == "firing"}
    for _, event in observation.timeline:
        if event.startswith("notified "):
            reached.add(event.removeprefix("notified ").removesuffix(HEALTHY))
    return reached


def _judge_always(expectation: Expectation, observation: Observation, problems: list[str]) -> None:
    """An alert documented to fire on the healthy cluster: firing, and at each receiver, whenever that was."""
    events = {event.removesuffix(HEALTHY) for _, event in observation.timeline}
    if "firing" not in events and observation.firing_s is None:
        problems.append("never fired, although the document says it fires all the time")
    reached = _reached(observation)
    for receiver in expectation.receivers:
        if receiver.problem:
            problems.append(receiver.problem)
        elif receiver.name not in reached:
            elsewhere = f"; it reached {', '.join(sorted(reached))} instead" if reached else ""
            problems.append(f"never reached {receiver.name}{elsewhere}")


def _quiet_timeline(expectation: Expectation, timeline: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """A post to a receiver without integration is no notification: the timeline says where it was routed."""
    return [(at, _quiet_event(expectation, event)) for at, event in timeline]


def _quiet_event(expectation: Expectation, event: str) -> str:
    healthy = HEALTHY if event.endswith(HEALTHY) else ""  # a post before the fault (an always-firing alert's)
    for prefix in ("notified ", "resolved notified "):
        receiver = event.removeprefix(prefix).removesuffix(healthy)
        if event.startswith(prefix) and receiver in expectation.quiet_receivers:
            status = "resolved, " if prefix.startswith("resolved") else ""
            return f"{status}routed to {receiver} (no integration: nobody notified){healthy}"
    return event


def _is_loss(event: str) -> bool:
    """A replica lost (high availability) is the scenario's own action, also before a staggered run's fault."""
    return event.startswith("lost ")


def judge(expectation: Expectation, observation: Observation) -> LiveVerdict:
    """The verdict for one run (see the module docstring)."""
    verdict = LiveVerdict(observation.run_id, "pass", timeline=_quiet_timeline(expectation, observation.timeline))
    verdict.fire_s = observation.firing_s
    firing = {n.receiver for n in observation.notifications if n.status == "firing"}
    # An alert documented to fire all the time reaches its receivers as soon as the stack starts, before any
    # fault: those posts are only in the timeline (the healthy period), and they name where it was routed.
    verdict.receivers = sorted(_reached(observation) if expectation.always else firing)
    # Counted as notifications: posts to receivers that notify someone.
    verdict.notifications = {
        receiver: counts
        for receiver, counts in notification_counts(observation).items()
        if receiver not in expectation.quiet_receivers
    }
    if observation.skipped:
        verdict.outcome = "skip"
        verdict.problems.append(observation.skipped)
        return verdict
    problems = verdict.problems
    if observation.error:
        problems.append(observation.error)
    if not observation.fault_applied:
        problems.append("the fault was not applied")
    _judge_silence(expectation, observation, problems)
    if expectation.always:
        _judge_always(expectation, observation, problems)
        verdict.outcome = "fail" if problems else "pass"
        return verdict
    healthy = [f"{event} at {at:.2f}s" for at, event in observation.timeline if at < 0 and not _is_loss(event)]
    if healthy:
        problems.append("the healthy cluster, before any fault, already showed: " + ", ".join(healthy))
    if not expectation.receivers and not expectation.silent:
        problems.append("the contract names no receiver to reach")
    if expectation.silent:
        if problems:
            verdict.outcome = "fail"
        return verdict
    lost = sum(1 for _, event in observation.timeline if _is_loss(event))
    if not observation.error and lost < len(expectation.losses):
        problems.append(
            f"{' and '.join(expectation.losses)}: {lost} of {len(expectation.losses)} replicas lost "
            "(the run never reached the moment of the others)"
        )
    _judge_sustain(expectation, observation, problems)
    problems.extend(stale_problems(observation))
    times = [_judge_receiver(expectation, receiver, observation, problems) for receiver in expectation.receivers]
    problems.extend(duplicate_problems(expectation, observation))
    reached = [t for t in times if t is not None]
    verdict.notify_s = max(reached) if reached else observation.notified_s
    if problems:
        verdict.outcome = "fail"
    return verdict
