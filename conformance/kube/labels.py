"""The labels and annotations every object the suite creates or changes carries.

``app.kubernetes.io/managed-by=alert-conformance`` marks anything the suite owns or has changed;
``alert-conformance/run=<run id>`` says which run. A changed object also holds the JSON merge patch that puts it
back (:data:`RESTORE_ANNOTATION`) and the fault that changed it (:data:`FAULT_ANNOTATION`), so a later run can
restore it even when the run that changed it was killed.
"""

from __future__ import annotations

import secrets
import time

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY = "alert-conformance"
RUN_KEY = "alert-conformance/run"
CREATED_KEY = "alert-conformance/created"
FAULT_ANNOTATION = "alert-conformance/fault"
RESTORE_ANNOTATION = "alert-conformance/restore"
MANAGED_SELECTOR = f"{MANAGED_BY_KEY}={MANAGED_BY}"


def new_run_id() -> str:
    """A short id, unique enough per run and valid as a label value: ``r20240501-1230-ab12``."""
    return time.strftime("r%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def managed_labels(run_id: str, *, created: bool = False) -> dict[str, str]:
    """The labels of an object the suite created (``created``) or changed in run ``run_id``."""
    labels = {MANAGED_BY_KEY: MANAGED_BY, RUN_KEY: run_id}
    if created:
        labels[CREATED_KEY] = "true"
    return labels
