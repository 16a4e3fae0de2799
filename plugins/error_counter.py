"""error-counter: a vendor error counter of the stand-in grows at the level rate per second."""

from __future__ import annotations

from conformance_plugins._admin import AdminEndpointFault

from conformance.model.scenario import Scenario


class ErrorCounter(AdminEndpointFault):
    fault = "error-counter"

    @classmethod
    def key_for(cls, scenario: Scenario) -> str:
        return f"rate/{scenario.params['metric']}"
