"""The figures of one run and the table `make bench` prints: values, ratios, issue #8's goals.

A figure from a run that had errors (transport errors, statuses above 399, broken streams) is
marked `!` and its goal reads `errors`: only whole answers count as throughput.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from wrk_load import LoadResult

RSS_GROWTH_TOLERANCE = 0.02
"""'No growth' between the soak's two samples: at most 2% (allocator noise, not a leak)."""

Judgement = tuple[str, bool | None, bool]
"""(value shown, met — None when not measured, whether the runs behind it were clean)."""


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
    cpu_us_per_chunk: float
    rss_mib: float
    """After the three runs above."""
    soak_rss_mib: dict[int, float] = field(default_factory=dict)
    """The soak (`--requests`): requests served so far → RSS."""
    soak_errors: Counter[str] = field(default_factory=Counter)
    """The soak's errors by kind, as `LoadResult.errors`."""

    @property
    def final_rss_mib(self) -> float:
        return self.soak_rss_mib[max(self.soak_rss_mib)] if self.soak_rss_mib else self.rss_mib


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
        ["", "non-stream", "p50 c=1", "stream", "CPU", "RSS", "start-up"],
        ["", "req/s c=32", "ms", "req/s c=8", "µs/chunk", "MiB", "s"],
    ]
    for row in rows:
        table.append(
            [
                row.name,
                _number(row.plain.rate, 1, row.plain.error_count),
                _number(row.latency.p50_ms, 2, row.latency.error_count),
                _number(row.stream.rate, 1, row.stream.error_count),
                _number(row.cpu_us_per_chunk, 1),
                _number(row.rss_mib, 0),
                _number(row.startup_s, 2),
            ]
        )
    return _align(table)


def ratios_table(rows: list[Figures], upstream: Figures, reference: Figures | None) -> list[str]:
    table = [
        ["", "non-stream", "stream", "CPU/chunk", "RSS", "start-up", "non-stream", "stream", "p50"],
        ["", *["x LiteLLM"] * 5, "of upstream", "of upstream", "added ms"],
    ]
    for row in rows:
        if row is upstream:
            continue
        table.append(
            [
                row.name,
                *(_number(ratio, 2) for ratio in _versus_litellm(row, reference)),
                _percent(row.plain.rate, upstream.plain.rate),
                _percent(row.stream.rate, upstream.stream.rate),
                f"{row.latency.p50_ms - upstream.latency.p50_ms:+.2f}",
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


def _percent(value: float, reference: float) -> str:
    return f"{100 * value / reference:.2f}%" if reference else "-"


def _throughput(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return "no LiteLLM", None, True
    ratio = _ratio(row.plain.rate, ref.plain.rate)
    return f"{ratio:,.1f}x", ratio >= 10, not (row.plain.error_count or ref.plain.error_count)


def _streaming(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return "no LiteLLM", None, True
    ratio = _ratio(row.stream.rate, ref.stream.rate)
    return f"{ratio:,.1f}x", ratio >= 20, not (row.stream.error_count or ref.stream.error_count)


def _cpu(row: Figures, _: Figures | None, __: Figures) -> Judgement:
    return f"{row.cpu_us_per_chunk:,.1f} µs", row.cpu_us_per_chunk <= 50, not row.stream.error_count


def _latency(row: Figures, _: Figures | None, upstream: Figures) -> Judgement:
    added = row.latency.p50_ms - upstream.latency.p50_ms
    return f"{added:+.2f} ms", added <= 3, not row.latency.error_count


def _memory(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return "no LiteLLM", None, True
    share = _ratio(row.final_rss_mib, ref.rss_mib)
    return f"{100 * share:.0f}%", share <= 0.5, not row.soak_errors.total()


def _growth(row: Figures, _: Figures | None, __: Figures) -> Judgement:
    if len(row.soak_rss_mib) < 2:
        return "no soak", None, True
    samples = [row.soak_rss_mib[count] for count in sorted(row.soak_rss_mib)]
    growth = samples[-1] - samples[0]
    clean = not row.soak_errors.total()
    return f"{growth:+.1f} MiB", growth <= samples[0] * RSS_GROWTH_TOLERANCE, clean


def _startup(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return "no LiteLLM", None, True
    ratio = _ratio(row.startup_s, ref.startup_s)
    return f"{ratio:.3f}x", ratio <= 1 / 3, True


GOALS: list[tuple[str, str, Callable[[Figures, Figures | None, Figures], Judgement]]] = [
    ("non-stream req/s at c=32, x LiteLLM proxy", ">= 10x", _throughput),
    ("stream req/s at c=8, x LiteLLM proxy", ">= 20x", _streaming),
    ("service CPU per streamed chunk", "<= 50 µs", _cpu),
    ("added p50 latency at c=1 over the upstream", "<= 3 ms", _latency),
    ("RSS, share of LiteLLM proxy's (*)", "<= 50%", _memory),
    ("RSS growth, soak half-way to end", "<= 2%", _growth),
    ("start-up to first answer, x LiteLLM proxy", "<= 1/3", _startup),
]


def _verdict(met: bool | None, clean: bool) -> str:
    if not clean:
        return "errors"
    return {True: "met", False: "NOT met", None: "-"}[met]


def goals_table(services: list[Figures], reference: Figures | None, upstream: Figures) -> list[str]:
    table = [["goal (issue #8)", "target"]]
    for service in services:
        table[0] += [service.name, ""]
    for text, target, judge in GOALS:
        line = [text, target]
        for service in services:
            shown, met, clean = judge(service, reference, upstream)
            line += [shown, _verdict(met, clean)]
        table.append(line)
    return _align(table)


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
        for label, result in (
            ("non-stream c=32", row.plain),
            ("p50 c=1", row.latency),
            ("stream c=8", row.stream),
        ):
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
        out += ["", *goals_table(services, reference, upstream)]
        out.append(
            "  (*) the service's RSS at the end of its soak, LiteLLM proxy's after its runs"
            if soaked
            else "  (*) both after their runs above; `--requests 100000` soaks the service as the "
            "issue asks"
        )
        out += soak_lines(services)
    out += [f"  skipped {s.name}: {s.reason}" for s in skipped]
    return "\n".join(out)
