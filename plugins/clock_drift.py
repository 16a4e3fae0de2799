"""clock-drift: the node's clock off its reference by the level, as node-exporter's timex collector reads it.

kind: skipped. kind nodes are containers sharing the host's one kernel, and the clock is the kernel's: there is
no node clock to move without moving the CI machine's and every other node's (time namespaces only offset the
monotonic and boot-time clocks, never CLOCK_REALTIME or the NTP state adjtimex(2) reports).

Existing cluster (needs ``--allow-disruption``): a privileged busybox pod on the node (CAP_SYS_TIME) reads the
kernel's state with busybox ``adjtimex`` and hands the kernel the level as its offset (``adjtimex -q -o <us>``)
every second for as long as the fault holds, since the kernel slews an offset away and the node's NTP daemon
sets its own at each poll. node-exporter's collector/timex.go reports ``timex.offset`` (microseconds, or
nanoseconds with STA_NANO) as node_timex_offset_seconds. The kernel only takes an offset in PLL mode
(kernel/time/ntp.c ntp_update_offset returns early without STA_PLL): a node whose daemon disciplines the clock
without the kernel PLL (chronyd, systemd-timesyncd) refuses, and the fault fails with that line rather than
pretend. This moves the node's real clock (the kernel slews towards the offset): disruptive, the node's NTP
daemon steps it back after the revert, which stops the loop, deletes the pod and hands the kernel the offset it
read before. The pod and its loop end by themselves after ``max_hold_s`` (default 1800 s, longer than
NodeClockSkewDetected's hold); a revert after that only deletes the pod, the daemon having taken the clock back.

``synchronised: false`` (sync status 0: the kernel's STA_UNSYNC) is skipped on both backends: busybox adjtimex
sets only the offset, frequency, tick and time constant (``-o -f -t -p``), never the status word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from conformance_plugins._node_pod import (
    delete_node_pod,
    node_pod_name,
    node_pod_permissions,
    pod_running,
    run_in_node_pod,
    start_node_pod,
)
from conformance_plugins._stress import in_background, kill_command

from conformance.errors import BackendError, InputError
from conformance.kube.client import Obj
from conformance.kube.faults import FaultContext, Injector, Permission
from conformance.kube.placement import BackendName, ResolvedTarget
from conformance.kube.resources import Resource
from conformance.model.scenario import Scenario, param_value

#: The adjtimex loop carries this in its argv; the revert kills it with :func:`kill_command`.
MARKER = "alert-conformance-clock"
#: The kernel's STA_PLL status bit (include/uapi/linux/timex.h): offsets are taken only in PLL mode.
STA_PLL = 0x0001
#: Where the pod keeps the offset it read, for the revert.
BEFORE_FILE = "/tmp/alert-conformance-offset-before"


@dataclass(frozen=True)
class ClockDriftParams:
    offset_s: float | None
    synchronised: bool
    namespace: str
    max_hold_s: int = 1800


class ClockDrift(Injector):
    fault = "clock-drift"
    node_fault = True

    @classmethod
    def build(cls, scenario: Scenario, target: ResolvedTarget, level: float | None) -> Injector:
        synchronised = str(param_value(scenario, "synchronised")).lower()
        if synchronised not in ("true", "false"):
            raise InputError(f"scenario {scenario.id}: synchronised must be 'true' or 'false', not {synchronised!r}")
        namespace = str(scenario.params.get("namespace", target.namespace or target.work_namespace or "default"))
        max_hold = int(scenario.params.get("max_hold_s", 1800))
        return cls(target, ClockDriftParams(level, synchronised == "true", namespace, max_hold))

    @classmethod
    def skip_reason(cls, backend: BackendName, target: ResolvedTarget) -> str | None:
        if backend == "kind":
            return (
                "kind nodes are containers sharing the host's one kernel clock: no node's clock can be set off "
                "(or unsynchronised) without the CI machine's and every other node's"
            )
        return None

    def params_skip_reason(self, backend: BackendName) -> str | None:
        if not self.params.synchronised:
            return (
                "synchronised: false needs the kernel's STA_UNSYNC status, which busybox adjtimex cannot set (its "
                "options are -o offset, -f frequency, -t tick, -p time constant)"
            )
        if self.params.offset_s is None:
            return "clock-drift without a level changes nothing this backend can set"
        return None

    @property
    def pod_name(self) -> str:
        return node_pod_name("clock", str(self.target.node))

    @property
    def offset_us(self) -> int:
        return round((self.params.offset_s or 0.0) * 1e6)

    def describe(self) -> str:
        return (
            f"hand node {self.target.node}'s kernel an offset of {self.params.offset_s or 0:g}s every second "
            f"(busybox adjtimex -o {self.offset_us}, privileged pod {self.params.namespace}/{self.pod_name}); "
            "moves the node's real clock"
        )

    def describe_revert(self) -> str:
        return f"stop the adjtimex loop on node {self.target.node}, restore the offset it read, delete the pod"

    def permissions(self) -> list[Permission]:
        return node_pod_permissions(self.params.namespace)

    def apply(self, ctx: FaultContext) -> None:
        ns, pod = self.params.namespace, self.pod_name
        start_node_pod(
            ctx,
            name=pod,
            namespace=ns,
            node=str(self.target.node),
            fault=self.fault,
            max_hold_s=self.params.max_hold_s,
            host_pid=False,
        )
        state = run_in_node_pod(ctx, pod, ns, ["adjtimex"], f"reading the clock of {self.target.node}").stdout
        offset_us, status = parse_adjtimex(state)
        if not status & STA_PLL:
            raise BackendError(
                f"node {self.target.node}: the kernel is not in PLL mode (status {status}, no STA_PLL), so it "
                "ignores an offset; its NTP daemon disciplines the clock without the kernel PLL"
            )
        adjust = f"sh -c 'while :; do adjtimex -q -o {self.offset_us}; sleep 1; done'"
        loop = f"echo {offset_us} > {BEFORE_FILE}; {in_background(adjust, self.params.max_hold_s, MARKER)}"
        run_in_node_pod(ctx, pod, ns, ["sh", "-c", loop], f"setting the clock offset of {self.target.node}")

    def revert(self, ctx: FaultContext) -> None:
        self._clean(ctx, self.pod_name, self.params.namespace)

    @classmethod
    def _clean(cls, ctx: FaultContext, pod: str, namespace: str) -> None:
        if pod_running(ctx, pod, namespace):
            restore = f"if [ -f {BEFORE_FILE} ]; then adjtimex -q -o $(cat {BEFORE_FILE}); fi"
            script = f"{kill_command(MARKER)}; {restore}; true"
            run_in_node_pod(ctx, pod, namespace, ["sh", "-c", script], "restoring the clock offset")
        delete_node_pod(ctx, pod, namespace)

    @classmethod
    def clean_leftover(cls, ctx: FaultContext, resource: Resource, obj: Obj) -> str:
        meta = obj["metadata"]
        cls._clean(ctx, meta["name"], meta["namespace"])
        return f"stopped the adjtimex loop and deleted pod {meta['namespace']}/{meta['name']}"


def parse_adjtimex(output: str) -> tuple[int, int]:
    """(offset, status) from busybox ``adjtimex`` output (``-o  offset: 12 us``, ``    status: 8193 (...)``)."""
    offset = re.search(r"offset:\s*(-?\d+)", output)
    status = re.search(r"status:\s*(\d+)", output)
    if offset is None or status is None:
        raise BackendError(f"cannot read offset and status from adjtimex output: {output.strip()[:200]!r}")
    return int(offset.group(1)), int(status.group(1))
