"""Load from wrk: one POST endpoint, a fixed number of connections, for a fixed time.

wrk's Lua script sets the body and headers and prints one JSON line of results from `done()`.
wrk counts transport errors and statuses above 399 itself; a streaming run also checks each body
(it must end with `[DONE]` and carry no error event), because a stream that fails after its first
byte still answers 200. Only streaming runs define `response()`: with it wrk parses every body.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

RESULT_MARK = "BENCH-RESULT "

_HEAD = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = {auth}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
"""

# A 200 whose body is not a whole, error-free stream (ended by the API's last event). An error
# is an object under "error": a Response carries `"error":null` in its every event.
_CHECK_STREAM = """
    if status == 200 and (not string.find(body, {end}, 1, true)
                          or string.find(body, '"error":{{', 1, true)
                          or string.find(body, '"error": {{', 1, true)) then
        bad = bad + 1
    end"""

_DONE = """
function done(summary, latency, requests)
    local bad_total = 0
    for _, thread in ipairs(threads) do bad_total = bad_total + thread:get("bad") end
    local e = summary.errors
    io.write(string.format(
        '{mark}{{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "connect": %d, '
        .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "bad_body": %d}}\\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.connect, e.read, e.write, e.status, e.timeout, bad_total))
end
"""


@dataclass(frozen=True)
class Endpoint:
    """One request to repeat: where, what body, with which key."""

    url: str
    body: Mapping[str, object]
    api_key: str
    stream_end: str = "[DONE]"
    """What a whole stream ends with (Anthropic's: `message_stop`)."""

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


@dataclass(frozen=True)
class Calls:
    """What a target is asked: non-streaming, streams of 20 and of 200 chunks, and on the service
    the same non-streaming call on platforms with a requests-per-minute limit (by its size)."""

    plain: Endpoint
    stream: Endpoint
    stream200: Endpoint
    rate_limited: Mapping[int, Endpoint] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    """Transport errors, statuses above 399 (`status`) and broken streams (`bad_body`)."""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def ok_requests(self) -> int:
        """Answers that count: wrk's total includes error statuses and broken streams."""
        broken = self.errors["status"] + self.errors["bad_body"]
        return max(0, self.requests - broken)

    @property
    def rate(self) -> float:
        return self.ok_requests / self.seconds if self.seconds else 0.0


def lua_script(endpoint: Endpoint) -> str:
    check = _CHECK_STREAM.format(end=_lua_string(endpoint.stream_end))
    response = f"function response(status, headers, body){check}\nend\n"
    head = _HEAD.format(
        body=_lua_string(json.dumps(endpoint.body)),
        auth=_lua_string(f"Bearer {endpoint.api_key}"),
    )
    return head + (response if endpoint.stream else "") + _DONE.format(mark=RESULT_MARK)


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk not found: `make bench` installs it (apt-get install wrk)")
    return found


def run(endpoint: Endpoint, *, connections: int, seconds: int) -> LoadResult:
    """Drive `endpoint` with `connections` kept-alive connections for `seconds`."""
    threads = min(2, connections)  # wrk needs a connection per thread
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(endpoint))
    argv = [
        wrk_binary(), "-t", str(threads), "-c", str(connections), "-d", f"{max(1, seconds)}s",
        "--timeout", "10s", "-s", script.name, endpoint.url,
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - argv built here, no shell
            argv, capture_output=True, text=True, timeout=seconds + 60
        )
    finally:
        Path(script.name).unlink()
    return _parse(done.stdout, done.stderr)


def _parse(stdout: str, stderr: str) -> LoadResult:
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line.removeprefix(RESULT_MARK))
            errors = {
                name: int(raw[name])
                for name in ("connect", "read", "write", "status", "timeout", "bad_body")
            }
            return LoadResult(
                requests=int(raw["requests"]),
                seconds=raw["duration_us"] / 1e6,
                p50_ms=raw["p50_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                errors=errors,
            )
    raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")


def combined(results: list[LoadResult]) -> LoadResult:
    """Runs of one endpoint taken in turns with others, as one (percentiles: the worst run's)."""
    errors: dict[str, int] = {}
    for result in results:
        for kind, count in result.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return LoadResult(
        requests=sum(r.requests for r in results),
        seconds=sum(r.seconds for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        errors=errors,
    )
