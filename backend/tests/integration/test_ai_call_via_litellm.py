"""The reference run: every scenario of test_ai_call again with the lean path off, so that each
answer, usage figure, error and account action it checks holds through litellm exactly as it
does through the lean path (test_lean_path.py compares the two side by side)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.api.deps import app_context
from app.main import create_app
from tests.conftest import make_settings
from tests.fakes.server import serve
from tests.integration.test_ai_call import *  # noqa: F403


@pytest.fixture(autouse=True)
def _through_litellm(app: Any) -> Iterator[None]:
    settings = app_context(app).call_path.settings
    settings.call_lean_path = False
    yield
    settings.call_lean_path = True


@pytest.fixture(scope="module")
def service_url(app: Any, sqlite_url: str) -> Iterator[str]:
    """The service on a real uvicorn server, through litellm."""
    served = create_app(make_settings(sqlite_url, background_jobs=False, call_lean_path=False))
    with serve(served, lifespan="on") as server:
        yield server.url
