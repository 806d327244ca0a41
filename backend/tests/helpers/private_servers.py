"""A PostgreSQL cluster and a Redis of the test's own, on free loopback ports, that a fault test
may stop, kill and start again without touching the machine's shared servers (other test runs
use those at the same time).

    with private_postgres() as postgres:      # initdb into a temporary folder, then pg_ctl start
        postgres.url                          # postgresql+asyncpg://postgres@127.0.0.1:<port>/faults
        postgres.stop(); postgres.start()     # pg_ctl stop -m fast / start
    with private_redis() as redis:
        redis.kill(); redis.start()           # SIGKILL, then a new empty server on the same port
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import reachable
from tests.helpers.processes import free_port

DATABASE = "faults"
POSTGRES_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
REDIS_SERVER = shutil.which("redis-server")


def require_binary(found: bool, what: str) -> None:
    """Skip (or, with CI=true, fail) when a server binary the test starts itself is missing."""
    if found:
        return
    message = f"{what} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true requires it")
    pytest.skip(f"{message}; install it to run this fault test (CI=true requires it)")


@dataclass
class PrivatePostgres:
    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.root / "postgres.log")
        self._pg_ctl("-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: open sessions are cut off, as when an operator restarts the server."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def _pg_ctl(self, *args: str) -> None:
        _run([*_as_postgres(), str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args])


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster with trust authentication and an empty database `faults`."""
    require_binary(bool(POSTGRES_BINS), "PostgreSQL (initdb, pg_ctl)")
    # Not pytest's tmp_path: its parents are root's alone, and the cluster runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    postgres = PrivatePostgres(POSTGRES_BINS[-1].parent, root, free_port())
    try:
        _run([*_as_postgres(), str(postgres.bin_dir / "initdb"), "-D", str(postgres.data),
              "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])  # fmt: skip
        postgres.start()
        createdb = str(postgres.bin_dir / "createdb")
        _run([createdb, "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", DATABASE])
        yield postgres
    finally:
        if (postgres.data / "postmaster.pid").exists():
            postgres._pg_ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _as_postgres() -> list[str]:
    """initdb and the server refuse to run as root: run them as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class PrivateRedis:
    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10) -> None:
        """A new, empty server on the port (no snapshot, no append-only file)."""
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while not reachable(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-conversation, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    require_binary(REDIS_SERVER is not None, "redis-server")
    redis = PrivateRedis(free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.kill()
