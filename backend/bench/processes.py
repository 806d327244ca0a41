"""The processes under test: spawned with a log, timed to their first answer, read from /proc.

CPU and memory are read for the whole process tree (nginx's master and worker, a server that
forks), so a target cannot look lean by doing its work in a child.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from wrk_load import Endpoint

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STARTUP_DEADLINE_S = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def spawned(
    argv: list[str], *, log: Path, env: dict[str, str], cwd: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` for the block; stopped (SIGTERM, then SIGKILL) on the way out."""
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - argv built by the bench, no shell
            argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def seconds_to_first_answer(
    process: subprocess.Popen[bytes], endpoint: Endpoint, spawned_at: float
) -> float:
    """Poll `endpoint` until it answers 200; the time since `spawned_at` (monotonic)."""
    headers = {"Authorization": f"Bearer {endpoint.api_key}"}
    deadline = spawned_at + STARTUP_DEADLINE_S
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            try:
                if client.post(endpoint.url, json=endpoint.body, headers=headers).is_success:
                    return time.monotonic() - spawned_at
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"{endpoint.url} gave no answer within {STARTUP_DEADLINE_S:.0f} s")


def wait_until_up(url: str, deadline_s: float = STARTUP_DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).is_success:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): state is field 0."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the tree so far."""
    total = 0
    for member in _tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of the tree (VmRSS), in MB."""
    total_kb = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024
