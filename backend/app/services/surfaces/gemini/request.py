"""A generateContent request as an OpenAI chat request (what the call path takes).

systemInstruction                       a system message
contents (user / model turns): text, inlineData images, fileData URLs
          functionCall (model)          tool_calls (ids given in order)
          functionResponse (user)       tool messages answering them by name, in order
          thought parts                 dropped
tools.functionDeclarations              function tools; other tools (googleSearch, …) refused
toolConfig.functionCallingConfig        tool_choice (AUTO, ANY, NONE, allowedFunctionNames)
generationConfig                        temperature, top_p, max_tokens, stop, n, seed,
                                        penalties; responseMimeType + responseSchema as
                                        response_format; topK passed on as it is
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson

from app.core.errors import BadRequest
from app.schemas.gemini import GenerateContentRequest

_GOOGLE_ONLY = ("nullable", "propertyOrdering")
_CONFIG_NAMES = {
    "temperature": "temperature",
    "topP": "top_p",
    "maxOutputTokens": "max_tokens",
    "stopSequences": "stop",
    "candidateCount": "n",
    "seed": "seed",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
    "topK": "top_k",
}


def chat_body(model: str, request: GenerateContentRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": _messages(request)}
    if request.tools:
        tools = [_function(d) for tool in request.tools for d in _declarations(tool)]
        if tools:
            body["tools"] = tools
    choice = (request.tool_config or {}).get("functionCallingConfig")
    if choice and body.get("tools"):
        body["tool_choice"] = _tool_choice(choice)
    config = request.generation_config or {}
    for name, openai_name in _CONFIG_NAMES.items():
        if config.get(name) is not None:
            body[openai_name] = config[name]
    response_format = _response_format(config)
    if response_format:
        body["response_format"] = response_format
    return body


def _messages(request: GenerateContentRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    system = request.system_instruction
    if system:
        text = "".join(str(p.get("text") or "") for p in system.get("parts") or [])
        messages.append({"role": "system", "content": text})
    asked: deque[tuple[str, str]] = deque()  # (name, id) of calls not yet answered
    for index, content in enumerate(request.contents):
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise BadRequest(f"contents[{index}].role: user or model.")
        messages += _turn(role, content.get("parts") or [], asked, f"contents[{index}]")
    return messages


def _turn(
    role: str, parts: list[dict[str, Any]], asked: deque[tuple[str, str]], where: str
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    content: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for number, part in enumerate(parts):
        if part.get("thought"):
            continue
        if "text" in part:
            content.append({"type": "text", "text": str(part["text"])})
        elif "inlineData" in part or "fileData" in part:
            content.append(_image(part))
        elif "functionCall" in part:
            call = part["functionCall"]
            call_id = str(call.get("id") or f"call_{len(asked) + len(calls)}_{call.get('name')}")
            asked.append((str(call.get("name")), call_id))
            arguments = orjson.dumps(call.get("args") or {}).decode()
            calls.append({"id": call_id, "type": "function"})
            calls[-1]["function"] = {"name": call.get("name"), "arguments": arguments}
        elif "functionResponse" in part:
            results.append(_result(part["functionResponse"], asked))
        else:
            raise BadRequest(f"{where}.parts[{number}]: this part cannot go to this platform.")
    if role == "model":
        text = "".join(p["text"] for p in content if p["type"] == "text") or None
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if calls:
            message["tool_calls"] = calls
        return [*results, message] if (calls or text) else results
    if not content:
        return results
    plain = all(p["type"] == "text" for p in content)
    said = "".join(p["text"] for p in content) if plain else content
    return [*results, {"role": "user", "content": said}]


def _image(part: dict[str, Any]) -> dict[str, Any]:
    if "inlineData" in part:
        data = part["inlineData"]
        url = f"data:{data.get('mimeType')};base64,{data.get('data')}"
    else:
        url = str(part["fileData"].get("fileUri"))
    return {"type": "image_url", "image_url": {"url": url}}


def _result(response: dict[str, Any], asked: deque[tuple[str, str]]) -> dict[str, Any]:
    """A function's answer, matched to its call by id, else to the first open call by name."""
    name = str(response.get("name"))
    call_id = response.get("id")
    for item in list(asked):
        if item[1] == call_id or (call_id is None and item[0] == name):
            asked.remove(item)
            call_id = item[1]
            break
    content = orjson.dumps(response.get("response") or {}).decode()
    return {"role": "tool", "tool_call_id": str(call_id or name), "content": content}


def _declarations(tool: dict[str, Any]) -> list[dict[str, Any]]:
    declarations = tool.get("functionDeclarations") or tool.get("function_declarations")
    if declarations is None:
        kinds = ", ".join(sorted(tool)) or "empty"
        raise BadRequest(f"tools: {kinds} runs only on Gemini; use functionDeclarations.")
    return list(declarations)


def _function(declaration: dict[str, Any]) -> dict[str, Any]:
    schema = declaration.get("parametersJsonSchema") or _json_schema(
        declaration.get("parameters") or {"type": "object", "properties": {}}
    )
    function = {"name": declaration.get("name"), "parameters": schema}
    if declaration.get("description"):
        function["description"] = declaration["description"]
    return {"type": "function", "function": function}


def _tool_choice(config: dict[str, Any]) -> Any:
    mode = str(config.get("mode") or "AUTO").upper()
    allowed = config.get("allowedFunctionNames") or []
    if mode == "ANY" and len(allowed) == 1:
        return {"type": "function", "function": {"name": allowed[0]}}
    return {"ANY": "required", "NONE": "none"}.get(mode, "auto")


def _response_format(config: dict[str, Any]) -> dict[str, Any] | None:
    if config.get("responseMimeType") != "application/json":
        return None
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if not schema:
        return {"type": "json_object"}
    json_schema = {"name": "response", "schema": _json_schema(schema)}
    return {"type": "json_schema", "json_schema": json_schema}


def _json_schema(schema: Any) -> Any:
    """Google's Schema (types in capitals, `nullable`) as JSON Schema."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: _json_schema(v) for k, v in schema.items() if k not in ("nullable", "propertyOrdering")
    }
    if isinstance(out.get("type"), str):
        out["type"] = out["type"].lower()
        if schema.get("nullable"):
            out["type"] = [out["type"], "null"]
    return out
