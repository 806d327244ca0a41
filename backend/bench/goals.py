"""The goals `make bench` checks for each service row: issue #8's and issue #19's, each met, NOT
met, `errors` (a run behind it had errors) or `-` (not measured in this row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from report import Figures

RSS_GROWTH_TOLERANCE = 0.02
"""'No growth' between the soak's two samples: at most 2% (allocator noise, not a leak)."""
RATE_LIMIT_TOLERANCE = 0.05
"""A rate limit's size may cost at most this share of the throughput without one."""

Judgement = tuple[str, bool | None, bool]
"""(value shown, met — None when not measured, whether the runs behind it were clean)."""
Judge = Callable[["Figures", "Figures | None", "Figures"], Judgement]
NO_LITELLM: Judgement = ("no LiteLLM", None, True)


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def _throughput(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return NO_LITELLM
    ratio = _ratio(row.plain.rate, ref.plain.rate)
    return f"{ratio:,.1f}x", ratio >= 15, not (row.plain.error_count or ref.plain.error_count)


def _streaming(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return NO_LITELLM
    ratio = _ratio(row.stream.rate, ref.stream.rate)
    return f"{ratio:,.1f}x", ratio >= 20, not (row.stream.error_count or ref.stream.error_count)


def _marginal(row: Figures, _: Figures | None, __: Figures) -> Judgement:
    clean = not (row.stream.error_count or row.stream200.error_count)
    value = row.marginal_us_per_chunk
    return f"{value:,.1f} µs", value <= 10, clean


def _cpu(row: Figures, _: Figures | None, __: Figures) -> Judgement:
    return f"{row.cpu_us_per_chunk:,.1f} µs", row.cpu_us_per_chunk <= 50, not row.stream.error_count


def _latency(row: Figures, _: Figures | None, upstream: Figures) -> Judgement:
    added = row.added_ms(upstream)
    return f"{added:+.2f} ms", added <= 3, not row.latency.error_count


def _latency_ratio(row: Figures, ref: Figures | None, upstream: Figures) -> Judgement:
    if ref is None:
        return NO_LITELLM
    ratio = _ratio(row.added_ms(upstream), ref.added_ms(upstream))
    clean = not (row.latency.error_count or ref.latency.error_count)
    return f"{ratio:.3f}x", ratio <= 1 / 5, clean


def _rate_limit(per_minute: int) -> Judge:
    def judge(row: Figures, _: Figures | None, __: Figures) -> Judgement:
        found, none = row.rate_limited.get(per_minute), row.rate_limited.get(0)
        if found is None or none is None:
            return "-", None, True
        share = _ratio(found.result.rate, none.result.rate)
        clean = not (found.result.error_count or none.result.error_count)
        return f"{100 * share:.1f}%", share >= 1 - RATE_LIMIT_TOLERANCE, clean

    return judge


def _memory(row: Figures, ref: Figures | None, _: Figures) -> Judgement:
    if ref is None:
        return NO_LITELLM
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
        return NO_LITELLM
    ratio = _ratio(row.startup_s, ref.startup_s)
    return f"{ratio:.3f}x", ratio <= 1 / 3, True


GOALS: list[tuple[str, str, Judge]] = [
    ("#19 non-stream req/s at c=32, x LiteLLM proxy", ">= 15x", _throughput),
    ("#19 stream req/s at c=8, x LiteLLM proxy", ">= 20x", _streaming),
    ("#19 marginal CPU per chunk (200 vs 20 chunks)", "<= 10 µs", _marginal),
    ("#19 added p50 at c=1, x LiteLLM proxy's", "<= 1/5", _latency_ratio),
    ("#19 req/s with rate_limit 30,000, of none", ">= 95%", _rate_limit(30_000)),
    ("#19 req/s with rate_limit 1,000,000, of none", ">= 95%", _rate_limit(1_000_000)),
    ("#8 CPU per chunk (a 20-chunk stream's / 20)", "<= 50 µs", _cpu),
    ("#8 added p50 latency at c=1 over the upstream", "<= 3 ms", _latency),
    ("#8 RSS, share of LiteLLM proxy's (*)", "<= 50%", _memory),
    ("#8 RSS growth, soak half-way to end", "<= 2%", _growth),
    ("#8 start-up to first answer, x LiteLLM proxy", "<= 1/3", _startup),
]


def _verdict(met: bool | None, clean: bool) -> str:
    if not clean:
        return "errors"
    return {True: "met", False: "NOT met", None: "-"}[met]


def rows(services: list[Figures], reference: Figures | None, upstream: Figures) -> list[list[str]]:
    """The goals table's cells: a goal a line, a value and a verdict per service row."""
    rows = [["goal (issue)", "target"]]
    for service in services:
        rows[0] += [service.name, ""]
    for text, target, judge in GOALS:
        line = [text, target]
        for service in services:
            shown, met, clean = judge(service, reference, upstream)
            line += [shown, _verdict(met, clean)]
        rows.append(line)
    return rows
