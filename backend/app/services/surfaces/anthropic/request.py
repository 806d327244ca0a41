"""A Messages API request as an OpenAI chat request (what the call path takes).

system (string or text blocks)          a system message
messages: text, image blocks            user/assistant content parts
          tool_use (assistant)          tool_calls
          tool_result (user)            tool messages, before the rest of the user's turn
          thinking, redacted_thinking   dropped: only Claude can read them back
tools (client tools)                    function tools; a server tool type is refused
tool_choice auto/any/tool/none          auto/required/{"function"}/none
max_tokens, stop_sequences, temperature, top_p   their OpenAI names
top_k                                   passed on as it is (platforms that know it use it)
metadata.user_id                        user
"""

from __future__ import annotations

from typing import Any

import orjson

from app.core.errors import BadRequest
from app.schemas.anthropic import MessagesRequest, TokenCountRequest

_DROPPED_BLOCKS = frozenset({"thinking", "redacted_thinking"})


def chat_body(request: MessagesRequest | TokenCountRequest) -> dict[str, Any]:
    """The OpenAI chat completion body of a Messages request (without `stream`)."""
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [*_system(request.system), *_messages(request.messages)],
    }
    if request.tools:
        body["tools"] = [_tool(tool) for tool in request.tools]
    if request.tool_choice:
        body.update(_tool_choice(request.tool_choice))
    if isinstance(request, MessagesRequest):
        body["max_tokens"] = request.max_tokens
        if request.stop_sequences:
            body["stop"] = request.stop_sequences
        for name in ("temperature", "top_p", "top_k"):
            value = getattr(request, name)
            if value is not None:
                body[name] = value
        user = (request.metadata or {}).get("user_id")
        if isinstance(user, str) and user:
            body["user"] = user[:256]
    return body


def _system(system: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    text = system if isinstance(system, str) else _text_of(system or [], "system")
    return [{"role": "system", "content": text}] if text else []


def _text_of(blocks: list[dict[str, Any]], where: str) -> str:
    parts = []
    for block in blocks:
        if block.get("type") != "text":
            raise BadRequest(f"{where}: only text blocks are allowed here.")
        parts.append(str(block.get("text") or ""))
    return "\n\n".join(parts)


def _messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        role = message.get("role")
        content = message.get("content")
        where = f"messages.{index}"
        if role not in ("user", "assistant", "system"):
            raise BadRequest(f"{where}.role: must be user or assistant.")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
        elif isinstance(content, list):
            out += _turn(role, content, where)
        else:
            raise BadRequest(f"{where}.content: a string or a list of content blocks.")
    return out


def _turn(role: str, blocks: list[dict[str, Any]], where: str) -> list[dict[str, Any]]:
    """One turn's blocks as chat messages: tool results first (each its own message)."""
    if role == "system":
        return [{"role": "system", "content": _text_of(blocks, where)}]
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for number, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text") or "")})
        elif kind == "image":
            parts.append(_image(block, f"{where}.content.{number}"))
        elif kind == "tool_use" and role == "assistant":
            calls.append(_tool_call(block))
        elif kind == "tool_result" and role == "user":
            results.append(_tool_result(block, f"{where}.content.{number}"))
        elif kind not in _DROPPED_BLOCKS:
            raise BadRequest(
                f"{where}.content.{number}: a {kind!r} block cannot be sent to this platform."
            )
    message: dict[str, Any] = {"role": role}
    if role == "assistant":
        message["content"] = "".join(p["text"] for p in parts if p["type"] == "text") or None
        if calls:
            message["tool_calls"] = calls
        return [*results, message] if (calls or message["content"]) else results
    if not parts:
        return results
    plain = all(p["type"] == "text" for p in parts)
    message["content"] = "".join(p["text"] for p in parts) if plain else parts
    return [*results, message]


def _image(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        url = f"data:{source.get('media_type')};base64,{source.get('data')}"
    elif source.get("type") == "url":
        url = str(source.get("url"))
    else:
        raise BadRequest(f"{where}.source: base64 or url.")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {
        "id": str(block.get("id")),
        "type": "function",
        "function": {"name": str(block.get("name")), "arguments": arguments},
    }


def _tool_result(block: dict[str, Any], where: str) -> dict[str, Any]:
    content = block.get("content")
    if isinstance(content, list):
        texts = [b for b in content if isinstance(b, dict) and b.get("type") == "text"]
        content = "\n\n".join(str(b.get("text") or "") for b in texts)
    elif content is None:
        content = ""
    elif not isinstance(content, str):
        raise BadRequest(f"{where}.content: a string or a list of content blocks.")
    if block.get("is_error"):
        content = f"Error: {content}"
    return {"role": "tool", "tool_call_id": str(block.get("tool_use_id")), "content": content}


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind not in (None, "custom"):
        raise BadRequest(f"tools: the tool type {kind!r} runs only on Claude; use a client tool.")
    function: dict[str, Any] = {
        "name": str(tool.get("name")),
        "parameters": tool.get("input_schema") or {"type": "object", "properties": {}},
    }
    if tool.get("description"):
        function["description"] = str(tool["description"])
    return {"type": "function", "function": function}


def _tool_choice(choice: dict[str, Any]) -> dict[str, Any]:
    kind = choice.get("type")
    chosen: dict[str, Any]
    if kind == "tool":
        chosen = {"tool_choice": {"type": "function", "function": {"name": choice.get("name")}}}
    elif kind in ("auto", "any", "none"):
        chosen = {"tool_choice": {"auto": "auto", "any": "required", "none": "none"}[kind]}
    else:
        raise BadRequest("tool_choice.type: auto, any, tool or none.")
    if choice.get("disable_parallel_tool_use"):
        chosen["parallel_tool_calls"] = False
    return chosen
