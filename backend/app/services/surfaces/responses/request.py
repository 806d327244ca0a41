"""Responses API input as an OpenAI chat request (what the call path takes).

instructions                            a system message first
input: a string                         one user message
       message items                    messages (input_text, output_text, input_image parts;
                                        `developer` becomes system, which every chat API knows)
       function_call items              an assistant message's tool_calls (consecutive calls
                                        share one message, as chat APIs want)
       function_call_output items       tool messages
       reasoning items                  dropped: only the model that wrote them reads them
tools: function                         function tools; a `namespace`'s functions flattened;
                                        any other type (web_search, file_search, …) refused
tool_choice, parallel_tool_calls, temperature, top_p, user, service_tier   as they are
max_output_tokens                       max_tokens
text.format json_schema / json_object   response_format
reasoning.effort                        reasoning_effort
"""

from __future__ import annotations

from typing import Any

import orjson

from app.core.errors import BadRequest
from app.schemas.responses import ResponsesRequest

_DROPPED_ITEMS = frozenset({"reasoning", "item_reference"})
_PASSED = ("parallel_tool_calls", "temperature", "top_p", "user", "service_tier")
_ROLES = frozenset({"user", "assistant", "system", "developer"})
_CHAT_ROLES = {"developer": "system"}
"""Chat APIs other than OpenAI's know no `developer`; a system message says the same."""


def input_items(request: ResponsesRequest) -> list[dict[str, Any]]:
    """The request's input as a list of items (a string is one user message)."""
    if isinstance(request.input, str):
        if not request.input:
            raise BadRequest("input: a string or a list of items is required.")
        return [{"type": "message", "role": "user", "content": request.input}]
    return list(request.input)


def chat_body(
    request: ResponsesRequest, items: list[dict[str, Any]], *, as_text: bool = False
) -> dict[str, Any]:
    """The chat completion body for `items` (the whole conversation) under the request's
    settings (without `stream` and `tools`: chat_tools; `as_text`: chat_messages)."""
    messages = [{"role": "system", "content": request.instructions}] if request.instructions else []
    translated = chat_messages(items, as_text=as_text)
    body: dict[str, Any] = {"model": request.model, "messages": messages + translated}
    if not messages and not body["messages"]:
        raise BadRequest("input: at least one message is required.")
    if request.tool_choice is not None:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    if request.max_output_tokens is not None:
        body["max_tokens"] = request.max_output_tokens
    for name in _PASSED:
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    format = (request.text or {}).get("format")
    if format:
        body["response_format"] = _response_format(format)
    effort = (request.reasoning or {}).get("effort")
    if effort:
        body["reasoning_effort"] = effort
    return body


def chat_tools(request: ResponsesRequest) -> list[dict[str, Any]]:
    """The request's tools as chat function tools (a tool no chat API runs: 400)."""
    tools = request.tools or []
    return [t for index, tool in enumerate(tools) for t in _tools(tool, index)]


def chat_messages(items: list[dict[str, Any]], *, as_text: bool = False) -> list[dict[str, Any]]:
    """The items as chat messages; one no chat API takes is refused (400), or with `as_text`
    kept as its JSON in a user message (for counting a request that goes to the platform's own
    Responses API as it is)."""
    out: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            _add_item(out, item, f"input.{index}")
        except BadRequest:
            if not as_text:
                raise
            out.append({"role": "user", "content": orjson.dumps(item).decode()})
    return out


def _add_item(out: list[dict[str, Any]], item: dict[str, Any], where: str) -> None:
    kind = item.get("type") or ("message" if "role" in item else None)
    if kind == "message":
        out.append(_message(item, where))
    elif kind == "function_call":
        call = {
            "id": str(item.get("call_id") or item.get("id")),
            "type": "function",
            "function": {"name": str(item.get("name")), "arguments": item.get("arguments")},
        }
        last = out[-1] if out else None
        if last and last["role"] == "assistant" and last.get("tool_calls"):
            last["tool_calls"].append(call)
        else:
            out.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else _text(output or [], where)
        out.append({"role": "tool", "tool_call_id": str(item.get("call_id")), "content": text})
    elif kind not in _DROPPED_ITEMS:
        raise BadRequest(f"{where}: an item of type {kind!r} cannot be sent to this platform.")


def _message(item: dict[str, Any], where: str) -> dict[str, Any]:
    role = item.get("role")
    if role not in _ROLES:
        raise BadRequest(f"{where}.role: user, assistant, system or developer.")
    role = _CHAT_ROLES.get(role, role)
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise BadRequest(f"{where}.content: a string or a list of content parts.")
    parts = [_part(part, f"{where}.content.{n}") for n, part in enumerate(content)]
    if role != "user" or all(p["type"] == "text" for p in parts):
        return {"role": role, "content": "".join(p.get("text", "") for p in parts)}
    return {"role": role, "content": parts}


def _part(part: dict[str, Any], where: str) -> dict[str, Any]:
    kind = part.get("type")
    if kind in ("input_text", "output_text", "text"):
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind == "refusal":
        return {"type": "text", "text": str(part.get("refusal") or "")}
    if kind == "input_image":
        url = part.get("image_url")
        if not url:
            raise BadRequest(f"{where}.image_url: an image is sent by URL or data URL here.")
        image: dict[str, Any] = {"url": url}
        if part.get("detail"):
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    raise BadRequest(f"{where}: a {kind!r} part cannot be sent to this platform.")


def _text(parts: list[dict[str, Any]], where: str) -> str:
    return "".join(_part(p, where).get("text", "") for p in parts)


def _tools(tool: dict[str, Any], index: int) -> list[dict[str, Any]]:
    kind = tool.get("type")
    if kind == "namespace":
        return [t for inner in tool.get("tools") or [] for t in _tools(inner, index)]
    if kind != "function":
        raise BadRequest(
            f"tools.{index}: the tool type {kind!r} is not available on this service; "
            "only function tools are."
        )
    function: dict[str, Any] = {
        "name": str(tool.get("name")),
        "parameters": tool.get("parameters") or {"type": "object", "properties": {}},
    }
    if tool.get("description"):
        function["description"] = str(tool["description"])
    if tool.get("strict") is not None:
        function["strict"] = bool(tool["strict"])
    return [{"type": "function", "function": function}]


def _tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, str):
        return choice
    if choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    if choice.get("type") == "allowed_tools":
        return str(choice.get("mode") or "auto")
    raise BadRequest(f"tool_choice: the tool type {choice.get('type')!r} is not available here.")


def _response_format(format: dict[str, Any]) -> dict[str, Any]:
    kind = format.get("type")
    if kind == "json_schema":
        schema = {"name": format.get("name") or "answer", "schema": format.get("schema") or {}}
        if format.get("strict") is not None:
            schema["strict"] = bool(format["strict"])
        if format.get("description"):
            schema["description"] = format["description"]
        return {"type": "json_schema", "json_schema": schema}
    if kind in ("json_object", "text"):
        return {"type": kind}
    raise BadRequest(f"text.format.type: text, json_object or json_schema, not {kind!r}.")
