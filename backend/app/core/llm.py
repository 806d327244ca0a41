"""litellm, imported once per process, offline, with its logs routed through ours.

`import litellm` downloads a price list (and the first Anthropic call a header file) unless told
not to, takes several seconds and ~190 MB, installs log handlers of its own, and falls back to
`*_API_KEY` environment variables when a call names no key. So: the offline switches are set and
those variables removed before the import; the import runs once per process on a background
thread started with the app (the service is ready before litellm is; the first call waits for
it); litellm's handlers, and the filters it puts on other libraries' loggers, are removed so
that records pass through our redacting handler, litellm's at `LITELLM_LOG_LEVEL`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import re
import threading
from concurrent.futures import Future
from types import ModuleType
from typing import Any

from app.core.collector import freeze_long_lived

logger = logging.getLogger(__name__)

OFFLINE_SWITCHES = {
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
}
# Names litellm reads a platform key from when a call passes none (OPENAI_API_KEY, …).
_PROVIDER_KEY_VARIABLE = re.compile(r"^[A-Z0-9_]*_API_KEY$")
LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")

_lock = threading.Lock()
_import: Future[ModuleType] | None = None


def remove_provider_keys(environ: dict[str, str] | os._Environ[str] = os.environ) -> list[str]:
    """Drop `*_API_KEY` variables so no call can ever fall back to a key from the environment."""
    names = [name for name in environ if _PROVIDER_KEY_VARIABLE.match(name.upper())]
    for name in names:
        del environ[name]
    return names


def _import_litellm(future: Future[ModuleType]) -> None:
    try:
        module = importlib.import_module("litellm")
        _drop_litellm_filters()
        freeze_long_lived("litellm")
        future.set_result(module)
    except BaseException as exc:  # handed to whoever awaits the module
        future.set_exception(exc)


def _drop_litellm_filters() -> None:
    """The import puts litellm's secret filters on other libraries' loggers (uvicorn's access log
    among them): regular expressions over every record, which our redacting handler already
    does once."""
    for lib_logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(lib_logger, logging.Logger):
            for found in list(lib_logger.filters):
                if type(found).__module__.startswith("litellm"):
                    lib_logger.removeFilter(found)


def start_import() -> Future[ModuleType]:
    """Begin importing litellm (once per process); returns the future module."""
    global _import
    with _lock:
        if _import is None:
            os.environ.update(OFFLINE_SWITCHES)
            removed = remove_provider_keys()
            if removed:
                logger.warning("ignoring platform keys in the environment: %s", ", ".join(removed))
            _import = Future()
            threading.Thread(
                target=_import_litellm, args=(_import,), name="litellm-import", daemon=True
            ).start()
        return _import


class LLM:
    """The app's handle on litellm: configured with this app's settings on first use."""

    def __init__(self, *, log_level: str) -> None:
        self.log_level = log_level.upper()
        self._module: ModuleType | None = None

    def start(self) -> None:
        start_import()

    async def module(self) -> ModuleType:
        if self._module is None:
            module = await asyncio.wrap_future(start_import())
            self._configure(module)
            self._module = module
        return self._module

    def _configure(self, litellm: Any) -> None:
        litellm.suppress_debug_info = True
        litellm.api_key = None
        for name in LITELLM_LOGGERS:
            lib_logger = logging.getLogger(name)
            lib_logger.handlers.clear()
            lib_logger.propagate = True
            lib_logger.setLevel(self.log_level)
        litellm.cache = None  # the service keeps its own answer cache
