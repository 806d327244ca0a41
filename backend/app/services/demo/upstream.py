"""A small, fast OpenAI-format chat server on 127.0.0.1 (raw asyncio HTTP/1.1, keep-alive).

It stands in for a platform where none is reachable: `DEMO_MODE` runs one in the service's
process, and the benchmark runs one as the upstream it measures against. It answers
`GET …/models` and `POST …/chat/completions` (whole, or streamed in `chunks` pieces ending with a
usage chunk when asked and `data: [DONE]`) to any non-empty Bearer key; the answer echoes the last
user message unless a fixed `reply` is given.

    python -m app.services.demo --port 8100 --chunks 20
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from typing import Any

import orjson

MAX_BODY = 4 * 1024 * 1024
DEMO_MODELS = ("demo-echo",)


class DemoUpstream:
    def __init__(
        self, *, reply: str | None = None, chunks: int = 20, models: tuple[str, ...] = DEMO_MODELS
    ) -> None:
        self.reply = reply
        self.chunks = max(1, chunks)
        self.models = models
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._ids = itertools.count(1)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> DemoUpstream:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._writers):  # idle keep-alive connections end here
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def serve_forever(self) -> None:
        assert self._server is not None
        await self._server.serve_forever()

    # --- HTTP ---

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = min(int(headers.get("content-length") or 0), MAX_BODY)
                body = await reader.readexactly(length) if length else b""
                await self._answer(writer, method, path.split("?", 1)[0], headers, body)
                if headers.get("connection", "").lower() == "close":
                    break
        except (
            asyncio.IncompleteReadError,
            ConnectionError,
            ValueError,
            asyncio.LimitOverrunError,
        ):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        raw: bytes,
    ) -> None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            error = {"message": "Missing API key.", "type": "invalid_request_error"}
            await _json(writer, 401, {"error": error | {"param": None, "code": "invalid_api_key"}})
            return
        if method == "GET" and path.endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "demo"} for m in self.models
            ]
            await _json(writer, 200, {"object": "list", "data": data})
            return
        if method != "POST" or not path.endswith("/chat/completions"):
            await _json(writer, 404, {"error": {"message": f"No route {method} {path}"}})
            return
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            await _json(writer, 400, {"error": {"message": "The body is not JSON."}})
            return
        model = str(body.get("model") or self.models[0])
        text = self.reply if self.reply is not None else _echo(body.get("messages") or [])
        prompt_tokens = max(
            1, sum(len(str(m.get("content", "")).split()) for m in body.get("messages") or [])
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": max(1, len(text.split())),
            "total_tokens": prompt_tokens + max(1, len(text.split())),
        }
        completion_id = f"chatcmpl-demo{next(self._ids):08d}"
        created = int(time.time())
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            answer = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": usage,
            }
            await _json(writer, 200, answer)
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        await self._stream(writer, completion_id, created, model, text, usage, include_usage)

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        completion_id: str,
        created: int,
        model: str,
        text: str,
        usage: dict[str, int],
        include_usage: bool,
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        )

        def event(delta: dict[str, Any], finish: str | None, **extra: Any) -> bytes:
            chunk = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            } | extra
            return b"data: " + orjson.dumps(chunk) + b"\n\n"

        size = len(text)
        pieces = [
            text[size * i // self.chunks : size * (i + 1) // self.chunks]
            for i in range(self.chunks)
        ]
        events = [event({"role": "assistant", "content": ""}, None)]
        events += [event({"content": piece}, None) for piece in pieces if piece]
        events.append(event({}, "stop"))
        if include_usage:
            events.append(event({}, None, choices=[], usage=usage))
        events.append(b"data: [DONE]\n\n")
        for data in events:
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()


async def _json(writer: asyncio.StreamWriter, status: int, body: Any) -> None:
    data = orjson.dumps(body)
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n".encode()
        + data
    )
    await writer.drain()


def _echo(messages: list[Any]) -> str:
    last = next(
        (m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None
    )
    content = last.get("content") if last else ""
    if isinstance(content, list):  # content parts
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    said = " ".join(str(content or "").split())[:200]
    return f"This is the demo platform. You said: {said}" if said else "This is the demo platform."
