"""OpenAI's legacy `POST /v1/completions` translated onto chat: the prompt is one user turn, the
answer's text the completion's. What chat cannot do (`echo`, `suffix`, `logprobs`, `best_of`,
several prompts, token prompts) is refused with 400 naming it. Streamed, the chat chunks become
`text_completion` chunks ending in `data: [DONE]`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from app.core.errors import BadRequest
from app.schemas.completions import CompletionRequest
from app.services.calls import responses
from app.services.calls.call_path import CallPath
from app.services.calls.stream_relay import Tally, note
from app.services.surfaces import chat_call

_CHAT_FIELDS = (
    "max_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "stream_options",
)


async def create(
    proxy: CallPath, user_id: int, request: CompletionRequest
) -> dict[str, Any] | AsyncIterator[bytes]:
    call = await chat_call.prepare(proxy, user_id, chat_body(request))
    if request.stream:
        return await proxy.open_stream(call, CompletionChunks(request.model, call.include_usage))
    return completion(await proxy.complete(call), request.model)


def chat_body(request: CompletionRequest) -> dict[str, Any]:
    asked = {
        "echo": request.echo,
        "suffix": request.suffix is not None,
        "logprobs": bool(request.logprobs),
        "best_of": (request.best_of or 1) > 1,
    }
    for name, wanted in asked.items():
        if wanted:
            raise BadRequest(
                f"{name}: not available here; completions are answered by chat models."
            )
    prompt = request.prompt
    if isinstance(prompt, list):
        if len(prompt) != 1 or not isinstance(prompt[0], str):
            raise BadRequest("prompt: one prompt as text per request here (no token prompts).")
        prompt = prompt[0]
    given = request.model_dump(exclude_none=True)
    body = {name: given[name] for name in _CHAT_FIELDS if name in given}
    body |= request.model_extra or {}
    return {"model": request.model, "messages": [{"role": "user", "content": prompt}], **body}


def completion(chat: dict[str, Any], model: str) -> dict[str, Any]:
    """A `chat.completion` (as the call path answers it) as a `text_completion`."""
    choices = [
        {
            "text": (choice.get("message") or {}).get("content") or "",
            "index": choice.get("index", 0),
            "logprobs": None,
            "finish_reason": choice.get("finish_reason"),
        }
        for choice in chat["choices"]
    ]
    body = {**_head(chat.get("id"), chat.get("created"), model), "choices": choices}
    body["usage"] = chat.get("usage")
    if chat.get("system_fingerprint"):
        body["system_fingerprint"] = chat["system_fingerprint"]
    return body


def _head(chat_id: Any, created: Any, model: str) -> dict[str, Any]:
    completion_id = "cmpl-" + str(chat_id or "").removeprefix("chatcmpl-")
    return {"id": completion_id, "object": "text_completion", "created": created, "model": model}


class CompletionChunks:
    """`text_completion` chunks made from chat chunks (a `StreamFormat`)."""

    def __init__(self, model: str, include_usage: bool) -> None:
        self.model = model
        self.include_usage = include_usage

    def events(self, chunk: Any, tally: Tally) -> bytes:
        note(chunk, tally)
        choices = [
            {
                "text": getattr(choice.delta, "content", None) or "",
                "index": choice.index,
                "logprobs": None,
                "finish_reason": choice.finish_reason,
            }
            for choice in chunk.choices
            if getattr(choice.delta, "content", None) or choice.finish_reason
        ]
        if not choices:
            return b""
        head = _head(getattr(chunk, "id", None), getattr(chunk, "created", None), self.model)
        return responses.sse({**head, "choices": choices})

    def failed(self, message: str, code: str) -> bytes:
        return responses.error_event(message, "server_error", code) + responses.DONE

    def ended(self, tally: Tally) -> bytes:
        if not self.include_usage or tally.charged is None:
            return responses.DONE
        last = tally.last_chunk()
        head = _head(getattr(last, "id", None), getattr(last, "created", None), self.model)
        usage = {**head, "choices": [], "usage": responses.usage_body(tally.charged)}
        return responses.sse(usage) + responses.DONE
