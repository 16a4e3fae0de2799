"""The revert stack: every fault's revert is pushed *before* the fault is applied, and runs on any way out.

::

    with RevertStack(status) as stack:
        stack.push("uncordon node worker-1", lambda: injector.revert(ctx))
        injector.apply(ctx)
        hold()

On a normal exit, an exception, a timeout or ``KeyboardInterrupt`` the reverts run last-in first-out; one that
fails does not stop the others. Failed reverts are raised as one :class:`RevertError` listing each (after the
original exception, if any, which is kept as its cause so Ctrl-C still ends the run).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from conformance.errors import RevertError

__all__ = ["RevertError", "RevertStack"]


class RevertStack:
    """A LIFO stack of named reverts that always run when the ``with`` block ends."""

    def __init__(self, status: Callable[[str], None] | None = None) -> None:
        self._reverts: list[tuple[str, Callable[[], None]]] = []
        self._status = status or (lambda _message: None)
        self.done: list[str] = []
        self.failed: list[str] = []

    def push(self, description: str, revert: Callable[[], None]) -> None:
        """Register ``revert`` (named by ``description``) to run when the block ends."""
        self._reverts.append((description, revert))

    def __len__(self) -> int:
        return len(self._reverts)

    def revert_all(self) -> list[str]:
        """Run every registered revert, newest first; returns the failures (and remembers them)."""
        failures: list[str] = []
        while self._reverts:
            description, revert = self._reverts.pop()
            try:
                revert()
            except KeyboardInterrupt:
                # A second Ctrl-C must not leave the other reverts undone: note it and carry on.
                failures.append(f"{description}: interrupted")
            except Exception as error:
                failures.append(f"{description}: {error}")
            else:
                self.done.append(description)
                self._status(f"reverted: {description}")
        self.failed.extend(failures)
        return failures

    def __enter__(self) -> RevertStack:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        failures = self.revert_all()
        if failures:
            message = (
                "reverts failed; objects labelled app.kubernetes.io/managed-by=alert-conformance may be "
                "left behind (the next run restores them):\n  " + "\n  ".join(failures)
            )
            if exc is None:
                raise RevertError(message)
            if isinstance(exc, Exception):
                raise RevertError(message) from exc
            exc.add_note(message)
