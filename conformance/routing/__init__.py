"""Alertmanager routing in-process: matchers, the routing tree with ``continue``, inhibition, explanations of
why a receiver is not reached, config validation, and amtool wrappers to check all of it against the real
thing.
"""

from conformance.routing.amtool import ConfigCheckResult, amtool_routes, check_config, cross_check
from conformance.routing.explain import explain_route
from conformance.routing.inhibit import inhibited
from conformance.routing.matchers import Matcher, MatcherError, matchers_of, parse_matcher, parse_matchers
from conformance.routing.tree import Route, RouteMatch, build_tree, route_alert
from conformance.routing.validate import validate_config

__all__ = [
    "ConfigCheckResult",
    "Matcher",
    "MatcherError",
    "Route",
    "RouteMatch",
    "amtool_routes",
    "build_tree",
    "check_config",
    "cross_check",
    "explain_route",
    "inhibited",
    "matchers_of",
    "parse_matcher",
    "parse_matchers",
    "route_alert",
    "validate_config",
]
