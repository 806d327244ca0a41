"""The Node clients the tests drive (Anthropic's SDK, Claude Code), installed here from
package.json and package-lock.json by `npm ci` the first time a test needs them, and again when
the lock changes. Node.js and npm come with the machine; with CI=true their absence fails the
tests that need them instead of skipping them."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest

CLIENTS_DIR = Path(__file__).resolve().parent
MODULES = CLIENTS_DIR / "node_modules"
_STAMP = MODULES / ".installed-lock-sha256"
INSTALL_TIMEOUT_S = 900


def _lock_digest() -> str:
    return hashlib.sha256((CLIENTS_DIR / "package-lock.json").read_bytes()).hexdigest()


def install() -> Path:
    """`npm ci` unless the installed modules match the lock; the modules' folder."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        message = "Node.js and npm are needed for the Node client tests"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI=true requires them")
        pytest.skip(message)
    digest = _lock_digest()
    # One installer at a time: test processes running side by side (pytest -n) wait for it.
    with (CLIENTS_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (_STAMP.exists() and _STAMP.read_text() == digest):
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=CLIENTS_DIR,
                check=True,
                timeout=INSTALL_TIMEOUT_S,
            )
            _STAMP.write_text(digest)
    return MODULES


async def run_script(name: str, env: dict[str, str], timeout_s: float = 120) -> Any:
    """Run a script of this folder with node; its last line of output, read as JSON."""
    install()
    with anyio.fail_after(timeout_s):
        done = await anyio.run_process(
            ["node", str(CLIENTS_DIR / name)],
            cwd=CLIENTS_DIR,
            env={"PATH": os.environ["PATH"], **env},
            check=False,
        )
    output = done.stdout.decode()
    assert done.returncode == 0, f"{name} failed:\n{output[-3000:]}\n{done.stderr.decode()[-3000:]}"
    return json.loads(output.strip().splitlines()[-1])
