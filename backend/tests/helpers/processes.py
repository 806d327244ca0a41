"""The service as a real process, started the way `make run` (uvicorn) or production (gunicorn
with uvicorn workers) starts it: the set-up scripts first, then the server, ready on /readyz.

    with running_service(tmp_path, {"DATABASE_URL": url}, workers=4) as service:
        httpx.get(service.url + "/v1/models", headers=...)
        service.rss()  # {pid: bytes} of the master and its workers

The process gets only the environment it is given (plus PATH and HOME) and runs from `work_dir`,
so neither the test process's settings nor a developer's `backend/.env` leak into it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BACKEND_DIR = Path(__file__).resolve().parents[2]
STARTUP_LINE = "Application startup complete"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    """A running service: its URL, its processes, their memory, its log; `stop()` ends it."""

    process: subprocess.Popen[bytes]
    url: str
    work_dir: Path
    """Its DATA_DIR: the embedded database and generated development secrets live here."""
    env: dict[str, str]
    """Its whole environment: a script run with it works on the service's own database."""
    log_path: Path
    terminated_at: float | None = None

    @property
    def pid(self) -> int:
        """The server process (uvicorn, or gunicorn's master)."""
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """gunicorn's workers (none under plain uvicorn, which serves in its own process)."""
        return [pid for pid in _all_pids() if _parent_of(pid) == self.pid]

    def pids(self) -> list[int]:
        return [self.pid, *self.worker_pids()]

    def rss(self) -> dict[int, int]:
        """Resident memory in bytes of each of the service's processes, by pid."""
        sizes = {pid: _rss_bytes(pid) for pid in self.pids()}
        return {pid: size for pid, size in sizes.items() if size is not None}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM, once: the server stops accepting connections and lets open requests end."""
        if self.terminated_at is None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.terminated_at = time.monotonic()

    def stop(self, timeout_s: float = 30) -> int:
        """`terminate()`, wait up to `timeout_s`, then kill its process group; the exit code."""
        self.terminate()
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait(timeout=10)


def start_service(
    work_dir: Path,
    env: Mapping[str, str],
    *,
    workers: int | None = None,
    platforms_file: Path | None = None,
    ready_timeout_s: float = 90,
    port: int | None = None,
) -> ServiceProcess:
    """Set up the database named by `env` and serve it: uvicorn when `workers` is None, else
    `gunicorn -c gunicorn.conf.py` with that many uvicorn workers. `platforms_file` is loaded
    after the shipped platforms (e.g. to point them at fake upstreams). Returns once /readyz
    answers 200 and every worker has started (keep LOG_LEVEL at INFO: their start-up lines count).
    `port` is for a caller that must name the service's address before it starts.
    """
    port = port or free_port()
    full_env = _base_env(work_dir, port, workers) | dict(env)
    _set_up(work_dir, full_env, platforms_file)
    descriptor, log_name = tempfile.mkstemp(prefix="service-", suffix=".log", dir=work_dir)
    log_path = Path(log_name)
    with os.fdopen(descriptor, "wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            _server_command(port, workers),
            cwd=work_dir,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a stuck worker is killed with its master
        )
    service = ServiceProcess(process, f"http://127.0.0.1:{port}", work_dir, full_env, log_path)
    try:
        _wait_until_ready(service, workers or 1, ready_timeout_s)
    except BaseException:
        service.stop(timeout_s=5)
        raise
    return service


@contextmanager
def running_service(
    work_dir: Path,
    env: Mapping[str, str],
    *,
    workers: int | None = None,
    platforms_file: Path | None = None,
    port: int | None = None,
) -> Iterator[ServiceProcess]:
    """`start_service` for the duration of the block, stopped (SIGTERM, then kill) after it."""
    service = start_service(
        work_dir, env, workers=workers, platforms_file=platforms_file, port=port
    )
    try:
        yield service
    finally:
        service.stop()


def minimal_env(home: Path) -> dict[str, str]:
    """What any process of the service needs from this one: where programs are, a home, and
    where the backend's code is; nothing else of the developer's environment."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(home)),
        "PYTHONPATH": str(BACKEND_DIR),
    }


def _base_env(work_dir: Path, port: int, workers: int | None) -> dict[str, str]:
    env = minimal_env(work_dir) | {
        "ENVIRONMENT": "development",
        "DATA_DIR": str(work_dir),
        "LOCAL_SECRETS_FILE": str(work_dir / ".local-secrets.env"),
        "LOG_JSON": "true",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    if workers is not None:
        # As in production: workers share their Prometheus counts through an empty folder.
        metrics_dir = tempfile.mkdtemp(prefix="prometheus-", dir=work_dir)
        env |= {"WEB_CONCURRENCY": str(workers), "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
    return env


def _set_up(work_dir: Path, env: dict[str, str], platforms_file: Path | None) -> None:
    """What `make run` does before it serves (and, optionally, the test's own platforms)."""
    steps = [["init_db.py"], ["init_oauth_platforms.py", "--only-missing"]]
    if platforms_file is not None:
        steps.append(["init_oauth_platforms.py", "--file", str(platforms_file), "--replace"])
    for script, *args in steps:
        done = subprocess.run(
            [sys.executable, str(BACKEND_DIR / "scripts" / script), *args],
            cwd=work_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"{script} failed:\n{done.stdout}\n{done.stderr}")


def _server_command(port: int, workers: int | None) -> list[str]:
    if workers is None:
        uvicorn = [sys.executable, "-m", "uvicorn", "app.main:app"]
        return [*uvicorn, "--host", "127.0.0.1", "--port", str(port)]
    config = str(BACKEND_DIR / "gunicorn.conf.py")
    return [sys.executable, "-m", "gunicorn", "-c", config, "app.main:app"]


def _wait_until_ready(service: ServiceProcess, servers: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise AssertionError(f"the service exited at start-up:\n{service.log()}")
            if service.log().count(STARTUP_LINE) >= servers and _ready(http, service.url):
                return
            time.sleep(0.1)
    raise AssertionError(f"the service was not ready within {timeout_s} s:\n{service.log()}")


def _ready(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(url + "/readyz").status_code == 200
    except httpx.TransportError:
        return False


def _all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its closing one.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _rss_bytes(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None
