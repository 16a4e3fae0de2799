"""metric-rate-drop: a vendor counter of the stand-in grows at the level rate instead of its healthy rate."""

from __future__ import annotations

from conformance_plugins._admin import AdminEndpointFault

from conformance.model.scenario import Scenario


class MetricRateDrop(AdminEndpointFault):
    fault = "metric-rate-drop"

    @classmethod
    def key_for(cls, scenario: Scenario) -> str:
        return f"rate/{scenario.params['metric']}"
