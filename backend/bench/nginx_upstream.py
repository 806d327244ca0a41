"""The fast upstream: nginx from Debian answering fixed OpenAI-format replies from memory.

nginx cannot branch on the JSON body without reading it, so each answer lives under its own
prefix: `/v1/...` answers one `chat.completion`, `/stream/v1/...` a 20-chunk event stream,
`/stream200/v1/...` a 200-chunk one and `/long/v1/...` a 2,000-chunk one (for slow readers).
Each client (the service's platforms, LiteLLM proxy's models) gets one base URL per scenario.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

MODEL = "bench-model"
CHUNKS = 20
MANY_CHUNKS = 200
LONG_CHUNKS = 2000
PROMPT_TOKENS = 12
PLAIN_PREFIX = "/v1"
STREAM_PREFIX = "/stream/v1"
STREAM200_PREFIX = "/stream200/v1"
LONG_PREFIX = "/long/v1"
STREAMS = {STREAM_PREFIX: CHUNKS, STREAM200_PREFIX: MANY_CHUNKS, LONG_PREFIX: LONG_CHUNKS}
"""Each streaming prefix and its content chunks."""


def words(chunks: int) -> list[str]:
    return [f"word{i}" for i in range(2 * chunks)]  # two words per chunk


def usage(chunks: int) -> dict[str, int]:
    completion = len(words(chunks))
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": completion,
        "total_tokens": PROMPT_TOKENS + completion,
    }


def completion() -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": " ".join(words(CHUNKS))},
                "finish_reason": "stop",
            }
        ],
        "usage": usage(CHUNKS),
    }


def _chunk(delta: dict[str, str], finish: str | None) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def event_stream(chunks: int) -> str:
    """`chunks` content chunks, a usage chunk, then `[DONE]`, as server-sent events."""
    reply = words(chunks)
    events = []
    for i in range(chunks):
        said = " ".join(reply[2 * i : 2 * i + 2])
        delta = {"role": "assistant", "content": said} if i == 0 else {"content": " " + said}
        events.append(_chunk(delta, "stop" if i == chunks - 1 else None))
    events.append({**_chunk({}, None), "choices": [], "usage": usage(chunks)})
    lines = [f"data: {json.dumps(event, separators=(',', ':'))}\n\n" for event in events]
    return "".join(lines) + "data: [DONE]\n\n"


def _models() -> str:
    return json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]})


MAX_PARAMETER = 4000
"""nginx's configuration parser takes at most 4,096 bytes in one parameter."""


def _location(path: str, content_type: str, body: str, work: Path) -> str:
    """An answer from memory, or a longer one from a file (a POST to a file is refused with 405,
    which `error_page` turns into the file's answer)."""
    if len(body) > MAX_PARAMETER:
        folder = work / "answers"  # readable by nginx's workers (`nobody` under root)
        folder.mkdir(mode=0o755, exist_ok=True)
        work.chmod(work.stat().st_mode | 0o111)  # and the way to it (a private temporary one)
        file = folder / (path.strip("/").replace("/", "-") + ".txt")
        file.write_text(body)
        file.chmod(0o644)
        return (
            f"    location = {path} {{ default_type {content_type}; alias {file}; "
            f"error_page 405 =200 $uri; }}\n"
        )
    # nginx single-quoted strings: the JSON holds no quote or backslash to escape.
    assert "'" not in body and "\\" not in body and "$" not in body
    return f"    location = {path} {{ default_type {content_type}; return 200 '{body}'; }}\n"


def config(port: int, work: Path) -> str:
    """One worker, no logs, keep-alive without a request cap (wrk reuses its connections)."""
    answer = json.dumps(completion(), separators=(",", ":"))
    locations = _location(f"{PLAIN_PREFIX}/models", "application/json", _models(), work)
    locations += _location(f"{PLAIN_PREFIX}/chat/completions", "application/json", answer, work)
    for prefix, chunks in STREAMS.items():
        locations += _location(f"{prefix}/models", "application/json", _models(), work)
        stream = event_stream(chunks)
        path = f"{prefix}/chat/completions"
        locations += _location(path, "text/event-stream", stream, work)
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
