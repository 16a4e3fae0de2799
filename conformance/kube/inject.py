"""Apply faults with their reverts registered first, hold, and always revert: for scripts and fault tests.

A live run does not use this: the shared engine (:mod:`conformance.observe.engine`) reverts each run on its own
schedule with the same guarantee. This is the plain form of that guarantee for one fault tried by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

from conformance.kube.faults import FaultContext, Injector
from conformance.kube.reverts import RevertStack

T = TypeVar("T")


def inject(ctx: FaultContext, injectors: Sequence[Injector], hold: Callable[[], T]) -> T:
    """Register every revert, apply every fault, return ``hold()``; the reverts run on any way out.

    A failing apply, a :class:`~conformance.kube.client.WaitTimeoutError` in a wait, an exception in ``hold``
    and ``KeyboardInterrupt`` all unwind through the :class:`RevertStack`.
    """
    with RevertStack(ctx.status) as stack:
        for injector in injectors:
            stack.push(f"{injector.fault}: {injector.describe_revert()}", partial(injector.revert, ctx))
        for injector in injectors:
            ctx.status(f"applying {injector.fault}: {injector.describe()}")
            injector.apply(ctx)
        return hold()
