"""The other APIs' rows (issue #14): Anthropic's `/v1/messages` and OpenAI's `/v1/responses`
(`store: false`: LiteLLM proxy without a database keeps nothing either), whole and streamed, on
the service and on LiteLLM proxy's own, both in front of the same OpenAI-format upstream (so
both translate onto chat completions), measured as the chat rows are (32 connections whole,
8 streamed) and judged by the chat goals as ratios to LiteLLM proxy (15x whole, 20x streamed)."""

from __future__ import annotations

from dataclasses import dataclass

import wrk_load
from wrk_load import Endpoint, LoadResult

MESSAGES = "/v1/messages"
RESPONSES = "/v1/responses"
QUESTION = "Tell me something short for the benchmark."
PLAIN_GOAL, STREAM_GOAL = 15, 20
"""The chat goals (goals.py): the service's rate over LiteLLM proxy's."""


@dataclass(frozen=True)
class SurfaceCalls:
    """One API's call on a target: whole and streamed (20 chunks)."""

    api: str
    plain: Endpoint
    stream: Endpoint


@dataclass(frozen=True)
class SurfaceFigures:
    api: str
    plain: LoadResult
    stream: LoadResult


def messages_calls(base: str, api_key: str, plain_model: str, stream_model: str) -> SurfaceCalls:
    def call(model: str, *, stream: bool = False) -> Endpoint:
        body = {
            "model": model,
            "max_tokens": 256,
            "messages": [{"role": "user", "content": QUESTION}],
        }
        if stream:
            return Endpoint(base + MESSAGES, body | {"stream": True}, api_key, "message_stop")
        return Endpoint(base + MESSAGES, body, api_key)

    return SurfaceCalls(MESSAGES, call(plain_model), call(stream_model, stream=True))


def responses_calls(base: str, api_key: str, plain_model: str, stream_model: str) -> SurfaceCalls:
    def call(model: str, *, stream: bool = False) -> Endpoint:
        body = {"model": model, "max_output_tokens": 256, "input": QUESTION, "store": False}
        if stream:
            return Endpoint(
                base + RESPONSES, body | {"stream": True}, api_key, "response.completed"
            )
        return Endpoint(base + RESPONSES, body, api_key)

    return SurfaceCalls(RESPONSES, call(plain_model), call(stream_model, stream=True))


def measure(calls: list[SurfaceCalls], seconds: int, warmup_seconds: int) -> list[SurfaceFigures]:
    found = []
    for api in calls:
        for endpoint in (api.plain, api.stream):
            wrk_load.run(endpoint, connections=8, seconds=warmup_seconds)
        plain = wrk_load.run(api.plain, connections=32, seconds=seconds)
        stream = wrk_load.run(api.stream, connections=8, seconds=seconds)
        found.append(SurfaceFigures(api.api, plain, stream))
    return found


def lines(rows: list[tuple[str, list[SurfaceFigures]]], reference: str | None) -> list[str]:
    """A table of each API's rows, the service's judged against LiteLLM proxy's by the chat
    goals; `rows` pairs each target's name with its figures, `reference` is LiteLLM's name."""
    measured = [(name, figures) for name, figures in rows if figures]
    if not measured:
        return []
    by_target = dict(measured)
    out = [
        "Other APIs, each target in front of the same OpenAI-format upstream "
        f"(goals as for chat: {PLAIN_GOAL}x / {STREAM_GOAL}x LiteLLM proxy's rate):",
        f"  {'API':<14}{'target':<34}{'whole/s':>10}{'streams/s':>11}"
        f"{'whole vs LiteLLM':>22}{'streamed vs LiteLLM':>24}",
    ]
    for name, figures in measured:
        for surface in figures:
            ref = _same_api(by_target.get(reference or ""), surface.api)
            plain = _judged(surface.plain, ref.plain if ref else None, PLAIN_GOAL, name, reference)
            stream = _judged(
                surface.stream, ref.stream if ref else None, STREAM_GOAL, name, reference
            )
            out.append(
                f"  {surface.api:<14}{name:<34}{_rate(surface.plain):>10}"
                f"{_rate(surface.stream):>11}{plain:>22}{stream:>24}"
            )
    return out


def _same_api(figures: list[SurfaceFigures] | None, api: str) -> SurfaceFigures | None:
    return next((f for f in figures or [] if f.api == api), None)


def _rate(result: LoadResult) -> str:
    return f"{result.rate:,.0f}" + ("!" if result.error_count else "")


def _judged(
    result: LoadResult, ref: LoadResult | None, goal: int, name: str, reference: str | None
) -> str:
    if name == reference:
        return "-"
    if ref is None or not ref.rate:
        return "no LiteLLM"
    ratio = result.rate / ref.rate
    if result.error_count or ref.error_count:
        return f"{ratio:,.1f}x errors"
    return f"{ratio:,.1f}x " + ("met" if ratio >= goal else "NOT met")
