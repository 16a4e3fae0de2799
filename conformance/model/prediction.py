"""What depth 3 (rule behaviour in virtual time) predicts and the live depths then check."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Prediction:
    """For one alert scenario at its firing level, measured in unscaled virtual seconds from the fault.

    ``fire_after_s`` is when promtool first saw the alert firing (None: it never fired); ``resolved_after_s``
    when it stopped after the revert at ``revert_after_s``; ``labels`` the firing alert's labels, as routed.
    ``level`` is the fault level used (None for faults without one). ``fault_timing`` is how the fault unfolded
    for the prediction (a crash loop's ``over_s`` ...): a live backend applies it exactly so, never re-derives it.

    ``hold_s`` is how long depth 3 held the fault. ``sustain_s`` says the fault is a state that keeps the alert
    firing for as long as it holds: depth 3 required the alert to fire without a break from its first firing to
    the revert, and held the fault at least ``sustain_s`` past the latest acceptable first firing to see it
    (None: the fault is a burst of events, and the alert may resolve on its own once they leave its window).
    ``steady_until_s`` is the last evaluation of the first uninterrupted run of firing evaluations (the revert
    when the alert stayed firing), in seconds from the fault.
    """

    alert_key: str
    alert: str
    scenario_id: str
    level: float | None
    hold_s: float
    fire_after_s: float | None
    revert_after_s: float
    resolved_after_s: float | None
    labels: tuple[dict[str, str], ...] = field(default_factory=tuple)
    evaluation_interval_s: float = 15.0
    scrape_interval_s: float = 15.0
    sustain_s: float | None = None
    steady_until_s: float | None = None
    fault_timing: tuple[tuple[str, float], ...] = ()
    #: From this many seconds after the fault, the fault's own mechanics may heal what the alert reads (a lost
    #: node's pods started elsewhere): the alert may resolve while the fault holds. None: nothing heals.
    heals_after_s: float | None = None

    def timing(self) -> dict[str, float]:
        """``fault_timing`` as the keyword arguments a fault takes."""
        return dict(self.fault_timing)
