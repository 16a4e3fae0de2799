"""promtool's clock for depth 3: the simulated cluster's Unix time, not 1970.

``promtool test rules`` evaluates from Unix time 0 (the ``start_timestamp`` of a test group arrived after the
Prometheus releases the project supports, 2.42 among them), while the simulated cluster writes timestamps as
values at its own epoch (``kube_job_status_start_time`` is ``DEFAULT_EPOCH`` + the virtual second). A rule
comparing one with ``time()`` (KubeJobNotCompleted: ``time() - start > 43200``) would then see a Job that started
1.7 billion seconds in the future. So the rules depth 3 hands to promtool read the clock at the cluster's epoch:
``time()`` and ``timestamp(v)`` gain the epoch, exactly what a promtool test started at that Unix time would see.
The other clock functions (``hour()``, ``day_of_week()`` ...) are left as they are: no rule of a seed pack uses
them on the cluster's timestamps.
"""

from __future__ import annotations

from typing import Any

import promql_parser

from conformance.errors import PromQLError

#: The functions whose result is a reading of the evaluation clock or of a sample's time.
CLOCK_FUNCTIONS = frozenset({"time", "timestamp"})


def at_epoch(expr: str, epoch: float) -> str:
    """``expr`` with every ``time()`` and ``timestamp(v)`` read as Unix time ``epoch`` + promtool's clock."""
    if epoch == 0 or not any(f"{name}(" in expr for name in CLOCK_FUNCTIONS):
        return expr
    try:
        tree = promql_parser.parse(expr)
    except (ValueError, TypeError) as error:
        raise PromQLError(f"expression does not parse: {error}") from None

    def post_visit(node: Any) -> Any:
        if isinstance(node, promql_parser.Call) and str(node.func.name) in CLOCK_FUNCTIONS:
            return promql_parser.parse(f"({node.prettify()} + {epoch:.0f})")
        return None

    shifted = promql_parser.transform(tree, post_visit=post_visit)
    return " ".join(line.strip() for line in shifted.prettify().splitlines())
