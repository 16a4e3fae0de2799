"""error-rate: a share (the level) of the stand-in's HTTP requests answers 5xx. Revert: exporter reset."""

from __future__ import annotations

from conformance_plugins._admin import AdminEndpointFault


class ErrorRate(AdminEndpointFault):
    fault = "error-rate"
    setting = "error_ratio"
