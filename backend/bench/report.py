"""The figures of one run and the tables `make bench` prints: values, ratios, costs per stream
and per chunk, rate limits, workers, slow streams, and the goals (goals.py).

A figure from a run that had errors (transport errors, statuses above 399, broken streams) is
marked `!` and its goal reads `errors`: only whole answers count as throughput.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import goals
import surfaces
from nginx_upstream import CHUNKS, MANY_CHUNKS
from slow_section import SlowFigures
from surfaces import SurfaceFigures
from wrk_load import LoadResult


@dataclass(frozen=True)
class RateLimited:
    """Non-streaming at 32 connections on a platform with a `rate_limit` (0: none)."""

    result: LoadResult
    cpu_us_per_call: float


@dataclass
class Figures:
    """What one target measured."""

    name: str
    startup_s: float
    plain: LoadResult
    """Non-streaming at 32 connections."""
    latency: LoadResult
    """Non-streaming at one connection."""
    stream: LoadResult
    """Streaming (20 chunks) at 8 connections."""
    cpu_us_per_stream: float
    """CPU (the target's process tree) per whole 20-chunk stream."""
    stream200: LoadResult
    """Streaming 200 chunks at 8 connections."""
    cpu_us_per_stream200: float
    rss_mib: float
    """After the runs above."""
    workers: int = 1
    rate_limited: dict[int, RateLimited] = field(default_factory=dict)
    """By `rate_limit` (requests a minute; 0: none), taken in turns."""
    slow: SlowFigures | None = None
    soak_rss_mib: dict[int, float] = field(default_factory=dict)
    """The soak (`--requests`): requests served so far → RSS."""
    soak_errors: Counter[str] = field(default_factory=Counter)
    """The soak's errors by kind, as `LoadResult.errors`."""
    surfaces: list[SurfaceFigures] = field(default_factory=list)
    """The other APIs' rows (surfaces.py)."""

    @property
    def final_rss_mib(self) -> float:
        return self.soak_rss_mib[max(self.soak_rss_mib)] if self.soak_rss_mib else self.rss_mib

    @property
    def cpu_us_per_chunk(self) -> float:
        """Issue #8's figure: a whole 20-chunk stream's CPU over its chunks."""
        return self.cpu_us_per_stream / CHUNKS

    @property
    def marginal_us_per_chunk(self) -> float:
        """What one more chunk costs: the 200-chunk stream's CPU less the 20-chunk one's, per
        chunk between them (the per-call cost cancels out)."""
        return (self.cpu_us_per_stream200 - self.cpu_us_per_stream) / (MANY_CHUNKS - CHUNKS)

    def added_ms(self, upstream: Figures) -> float:
        return self.latency.p50_ms - upstream.latency.p50_ms


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


def _align(rows: list[list[str]]) -> list[str]:
    """The first column left-aligned, the others right-aligned, two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def _number(value: float, digits: int, errors: int = 0) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.{digits}f}" + ("!" if errors else "")


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else math.nan


def figures_table(rows: list[Figures]) -> list[str]:
    table = [
        ["", "non-stream", "p50 c=1", "stream", "stream200", "CPU", "CPU", "marginal", "RSS"],
        ["", "req/s c=32", "ms", "req/s c=8", "req/s c=8", "µs/stream", "µs/s200", "µs/chunk",
         "MiB"],
    ]  # fmt: skip
    for row in rows:
        table.append(
            [
                row.name,
                _number(row.plain.rate, 1, row.plain.error_count),
                _number(row.latency.p50_ms, 2, row.latency.error_count),
                _number(row.stream.rate, 1, row.stream.error_count),
                _number(row.stream200.rate, 1, row.stream200.error_count),
                _number(row.cpu_us_per_stream, 0),
                _number(row.cpu_us_per_stream200, 0),
                _number(row.marginal_us_per_chunk, 1),
                _number(row.rss_mib, 0),
            ]
        )
    return _align(table)


def ratios_table(rows: list[Figures], upstream: Figures, reference: Figures | None) -> list[str]:
    table = [
        ["", "non-stream", "stream", "CPU/chunk", "RSS", "start-up", "non-stream", "stream",
         "p50", "p50 added"],
        ["", *["x LiteLLM"] * 5, "of upstream", "of upstream", "added ms", "x LiteLLM"],
    ]  # fmt: skip
    for row in rows:
        if row is upstream:
            continue
        added = row.added_ms(upstream)
        table.append(
            [
                row.name,
                *(_number(ratio, 2) for ratio in _versus_litellm(row, reference)),
                _percent(row.plain.rate, upstream.plain.rate),
                _percent(row.stream.rate, upstream.stream.rate),
                f"{added:+.2f}",
                _number(_ratio(added, reference.added_ms(upstream)) if reference else math.nan, 3),
            ]
        )
    return _align(table)


def _versus_litellm(row: Figures, reference: Figures | None) -> list[float]:
    """Non-stream, stream, CPU per chunk, RSS, start-up: each as a multiple of LiteLLM's."""
    if reference is None:
        return [math.nan] * 5
    return [
        _ratio(row.plain.rate, reference.plain.rate),
        _ratio(row.stream.rate, reference.stream.rate),
        _ratio(row.cpu_us_per_chunk, reference.cpu_us_per_chunk),
        _ratio(row.rss_mib, reference.rss_mib),
        _ratio(row.startup_s, reference.startup_s),
    ]


def rate_limit_lines(services: list[Figures]) -> list[str]:
    lines = []
    for row in services:
        if row.rate_limited:
            none = row.rate_limited[0].result.rate
            shown = "; ".join(
                ("no limit" if limit == 0 else f"rate_limit {limit:,}/min")
                + f" {_number(found.result.rate, 1, found.result.error_count)} req/s"
                + (f" ({_percent(found.result.rate, none)})" if limit else "")
                + f", {found.cpu_us_per_call:,.0f} µs CPU a call"
                for limit, found in sorted(row.rate_limited.items())
            )
            lines.append(f"  {row.name}, in turns: {shown}")
    return lines


def worker_lines(services: list[Figures]) -> list[str]:
    """Rows of one setting measured with 1 and with more workers: the scaling."""
    lines = []
    for row in services:
        base = next((r for r in services if r.workers == 1 and _same_setting(r, row)), None)
        if row.workers > 1 and base is not None:
            lines.append(
                f"  {row.workers} workers vs 1 ({base.name}): non-stream "
                f"{_ratio(row.plain.rate, base.plain.rate):.2f}x, stream "
                f"{_ratio(row.stream.rate, base.stream.rate):.2f}x, p50 c=1 "
                f"{row.latency.p50_ms:.2f} vs {base.latency.p50_ms:.2f} ms"
            )
    return lines


def _same_setting(one: Figures, other: Figures) -> bool:
    return one.name.split(",")[0] == other.name.split(",")[0]


def _percent(value: float, reference: float) -> str:
    return f"{100 * value / reference:.2f}%" if reference else "-"


def soak_lines(services: list[Figures]) -> list[str]:
    lines = []
    for service in services:
        samples = ", ".join(
            f"{rss:.0f} MiB after {count:,}" for count, rss in sorted(service.soak_rss_mib.items())
        )
        if samples:
            counts = _error_counts(service.soak_errors)
            errors = f" (! errors: {counts})" if counts else ""
            lines.append(f"  soak, {service.name}: {samples} requests{errors}")
    return lines


def _error_counts(errors: Mapping[str, int]) -> str:
    return ", ".join(f"{kind} {count:,}" for kind, count in errors.items() if count)


def error_lines(rows: list[Figures]) -> list[str]:
    lines = []
    for row in rows:
        runs = [
            ("non-stream c=32", row.plain),
            ("p50 c=1", row.latency),
            ("stream c=8", row.stream),
            ("stream200 c=8", row.stream200),
            *((f"rate_limit {n:,}", found.result) for n, found in row.rate_limited.items()),
        ]
        for label, result in runs:
            if result.error_count:
                counts = _error_counts(result.errors)
                lines.append(f"  ! {row.name}, {label}: {counts} (of {result.requests:,})")
    return lines


def render(
    rows: list[Figures], skipped: list[Skipped], *, upstream: Figures, reference: Figures | None
) -> str:
    services = [row for row in rows if row is not upstream and row is not reference]
    out = ["", *figures_table(rows)]
    errors = error_lines(rows)
    if errors:
        out += ["Runs with errors (`!`: their figures count only whole answers):", *errors]
    out += ["", *ratios_table(rows, upstream, reference)]
    if services:
        soaked = any(service.soak_rss_mib for service in services)
        out += ["", *_align(goals.rows(services, reference, upstream))]
        out.append(
            "  (*) the service's RSS at the end of its soak, LiteLLM proxy's after its runs"
            if soaked
            else "  (*) both after their runs above; `--requests 100000` soaks the service as "
            "issue #8 asks"
        )
        out += soak_lines(services)
        extra = rate_limit_lines(services) + worker_lines(services)
        for service in services:
            if service.slow is not None:
                extra += [f"  {service.name}:", *service.slow.lines()]
        out += ["", *extra] if extra else []
    apis = surfaces.lines([(r.name, r.surfaces) for r in rows], reference and reference.name)
    out += ["", *apis] if apis else []
    out += [f"  skipped {s.name}: {s.reason}" for s in skipped]
    return "\n".join(out)
