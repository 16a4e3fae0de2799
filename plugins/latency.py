"""latency: the stand-in's requests take the level in seconds (at the scenario's quantile). Revert: reset."""

from __future__ import annotations

from conformance_plugins._admin import AdminEndpointFault


class Latency(AdminEndpointFault):
    fault = "latency"
    setting = "latency_seconds"
