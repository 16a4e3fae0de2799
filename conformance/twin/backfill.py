"""A warm start for the twin: the healthy warm-up written into Prometheus's storage instead of waited for.

Depth 3 judges every fault after a healthy warm-up long enough to fill the pack's longest range window. Waiting
that long in wall time is most of a live run, so the twin runs the warm-up in virtual time before Prometheus
starts instead:

1. :func:`sample_warmup` advances the simulated cluster on the scrape grid and takes, at each step, exactly the
   series Prometheus would store after scraping every target (``stored_samples``: target labels merged,
   ``up`` included, the ServiceMonitors' metric drops applied);
2. :func:`openmetrics` writes them with past timestamps, each virtual second mapped to the wall time it
   would have had on the live clock, so the last one falls just before the live scrapes begin;
3. :func:`create_blocks` turns that file into TSDB blocks in Prometheus's data directory with
   ``promtool tsdb create-blocks-from openmetrics``.

Prometheus then starts with its range windows already full, and the cluster clock continues the same cluster
from the end of the warm-up: the live scrapes carry on the same series (same labels, counters without reset).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from conformance.errors import BackendError
from conformance.sim.exposition import escape_label_value, format_value
from conformance.sim.types import SeriesKey
from conformance.tools import run_command
from conformance.twin.exporter import ClusterLike

PROMTOOL_TIMEOUT_S = 120.0


@runtime_checkable
class SampledCluster(ClusterLike, Protocol):
    """A cluster that can say what Prometheus would store, so its warm-up can be backfilled."""

    def stored_samples(self, names: Collection[str] | None = None) -> Mapping[SeriesKey, float]: ...


@dataclass(frozen=True)
class Snapshot:
    """The stored series at virtual second ``at_s``."""

    at_s: float
    samples: Mapping[SeriesKey, float]


def sample_warmup(
    cluster: SampledCluster, until_s: float, step_s: float, names: Collection[str] | None = None
) -> list[Snapshot]:
    """Advance ``cluster`` from its current time to ``until_s``, a snapshot every ``step_s`` and one at the end.

    ``names`` keeps only series of those metric names (None: every series); ``up`` is always kept, since
    whether a target answered is what every other series' presence depends on.
    """
    if step_s <= 0:
        raise ValueError(f"the scrape step must be positive, got {step_s}")
    wanted = None if names is None else {*names, "up"}
    snapshots: list[Snapshot] = []
    step = 0
    while True:
        at = min(step * step_s, until_s)
        cluster.advance_to(at)
        snapshots.append(Snapshot(at, dict(cluster.stored_samples(wanted))))
        if at >= until_s:
            return snapshots
        step += 1


def openmetrics(snapshots: Sequence[Snapshot], unix_time_of: Callable[[float], float]) -> str:
    """The snapshots in the OpenMetrics text format promtool backfills from.

    Series grouped by metric name (a metric's lines must be contiguous), each series' samples in time order,
    timestamps in Unix seconds (``unix_time_of`` maps a virtual second to one), and the closing ``# EOF``.
    No ``# TYPE`` lines: every metric is ``unknown``, so no naming rule of typed families (``_total`` ...)
    can reject a name the live scrape accepts.
    """
    by_series: dict[SeriesKey, list[tuple[float, float]]] = {}
    for snapshot in snapshots:
        stamp = unix_time_of(snapshot.at_s)
        for key, value in snapshot.samples.items():
            by_series.setdefault(key, []).append((stamp, value))
    lines: list[str] = []
    for key in sorted(by_series, key=_name_then_labels):
        series = _series_text(key)
        for stamp, value in sorted(by_series[key]):
            lines.append(f"{series} {format_value(value)} {stamp:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _name_then_labels(key: SeriesKey) -> tuple[str, SeriesKey]:
    return dict(key)["__name__"], key


def _series_text(key: SeriesKey) -> str:
    labels = dict(key)
    name = labels.pop("__name__")
    if not labels:
        return name
    inner = ",".join(f'{label}="{escape_label_value(value)}"' for label, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def create_blocks(text: str, data_dir: Path, promtool: Path, *, work_dir: Path) -> None:
    """Write ``text`` to ``work_dir`` and backfill it into ``data_dir`` (made if missing) as TSDB blocks."""
    data_dir.mkdir(parents=True, exist_ok=True)
    source = work_dir / "warmup.om.txt"
    source.write_text(text)
    argv = [str(promtool), "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data_dir)]
    result = run_command(argv, timeout=PROMTOOL_TIMEOUT_S)
    if result.returncode != 0:
        raise BackendError(
            f"promtool could not backfill the healthy warm-up from {source}:\n{result.output.strip()[-2000:]}"
        )
    source.unlink()
