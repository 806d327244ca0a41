"""The fast upstream: nginx from Debian answering fixed OpenAI-format replies from memory.

nginx cannot branch on the JSON body without reading it, so the streaming answer lives under its
own prefix: `/v1/...` answers one `chat.completion`, `/stream/v1/...` a 20-chunk event stream.
Each client (the service's platforms, LiteLLM proxy's models) gets one base URL per scenario.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

MODEL = "bench-model"
CHUNKS = 20
REPLY_WORDS = [f"word{i}" for i in range(2 * CHUNKS)]  # two words per chunk
PROMPT_TOKENS = 12
USAGE = {
    "prompt_tokens": PROMPT_TOKENS,
    "completion_tokens": len(REPLY_WORDS),
    "total_tokens": PROMPT_TOKENS + len(REPLY_WORDS),
}
PLAIN_PREFIX = "/v1"
STREAM_PREFIX = "/stream/v1"


def completion() -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(REPLY_WORDS)},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


def _chunk(delta: dict[str, str], finish: str | None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def event_stream() -> str:
    """20 content chunks, a usage chunk, then `[DONE]`, as server-sent events."""
    events = []
    for i in range(CHUNKS):
        words = " ".join(REPLY_WORDS[2 * i : 2 * i + 2])
        delta = {"role": "assistant", "content": words} if i == 0 else {"content": " " + words}
        events.append(_chunk(delta, "stop" if i == CHUNKS - 1 else None))
    events.append({**_chunk({}, None), "choices": [], "usage": USAGE})
    lines = [f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events]
    return "".join(lines) + "data: [DONE]\n\n"


def _models() -> str:
    return json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


def _location(path: str, content_type: str, body: str) -> str:
    # nginx single-quoted strings: the JSON holds no quote or backslash to escape.
    assert "'" not in body and "\\" not in body and "$" not in body
    return f"    location = {path} {{ default_type {content_type}; return 200 '{body}'; }}\n"


def config(port: int, work: Path) -> str:
    """One worker, no logs, keep-alive without a request cap (wrk reuses its connections)."""
    answer = json.dumps(completion(), separators=(",", ":"))
    locations = (
        _location(f"{PLAIN_PREFIX}/models", "application/json", _models())
        + _location(f"{PLAIN_PREFIX}/chat/completions", "application/json", answer)
        + _location(f"{STREAM_PREFIX}/models", "application/json", _models())
        + _location(f"{STREAM_PREFIX}/chat/completions", "text/event-stream", event_stream())
    )
    temp = "\n".join(
        f"    {kind}_temp_path {work}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
{temp}
    server {{
        listen 127.0.0.1:{port};
{locations}    }}
}}
"""


def nginx_binary() -> str:
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not found:
        raise SystemExit("nginx not found: `make bench` installs it (apt-get install nginx-light)")
    return found


def command(port: int, work: Path) -> list[str]:
    """The argv that serves `config(port)` from `work` (the config file is written here)."""
    conf = work / "nginx.conf"
    conf.write_text(config(port, work))
    return [nginx_binary(), "-p", str(work), "-c", str(conf)]
