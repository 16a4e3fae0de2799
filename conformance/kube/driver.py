"""How a Kubernetes run plugs into the shared engine: its faults as a
:class:`~conformance.observe.engine.FaultDriver`, and its names for what depth 3 predicted.

Depth 3 predicted ``node="gpu-node-1"`` in the profile's namespace; kind calls that node ``ac-worker2`` and an
existing cluster may map the namespace to one the suite was allowed to use. :func:`translate_labels` turns a
predicted label set into the cluster's names, so attribution (:mod:`conformance.observe.attribution`) compares
like with like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from conformance.errors import ConformanceError
from conformance.kube.faults import FaultContext, Injector
from conformance.kube.placement import Placement
from conformance.kube.replica_loss import ReplicaKiller
from conformance.model.run import ReplicaLoss
from conformance.observe.watch import RunWatch


def translate_labels(labels: Mapping[str, str], placement: Placement) -> dict[str, str]:
    """Predicted labels in cluster names: node names by value, namespaces in ``*namespace`` labels."""
    result = {}
    for key, value in labels.items():
        if value in placement.nodes:
            result[key] = placement.nodes[value]
        elif key.endswith("namespace"):
            result[key] = placement.namespace(value)
        else:
            result[key] = value
    return result


@dataclass
class KubeFaults:
    """Applies and reverts each run's fault through its plugin's :class:`Injector` (the plan's, by run id); with
    ``replicas``, loses replicas of the stack for the high-availability runs
    (:class:`~conformance.kube.replica_loss.ReplicaKiller`), brought back by :meth:`restore_replicas`."""

    ctx: FaultContext
    injectors: dict[str, Injector]
    replicas: ReplicaKiller | None = None

    def lose(self, loss: ReplicaLoss, watch: RunWatch) -> str:
        if self.replicas is None:
            raise ConformanceError("the stack's replicas are not the suite's to lose on this backend")
        return self.replicas.lose(self.ctx, loss)

    def restore_replicas(self) -> None:
        """Wait until every replica lost in the wave is back (the losses' revert)."""
        if self.replicas is not None:
            self.replicas.restore(self.ctx)

    def apply(self, watch: RunWatch) -> None:
        injector = self.injectors[watch.run.id]
        self.ctx.status(f"applying {injector.fault}: {injector.describe()}")
        injector.apply(self.ctx)

    def revert(self, watch: RunWatch) -> None:
        injector = self.injectors[watch.run.id]
        injector.revert(self.ctx)
        self.ctx.status(f"reverted: {injector.fault}: {injector.describe_revert()}")

    def check_alive(self) -> None:
        """The cluster's own processes are not ours to watch: an unreachable API shows up as failed reads."""
