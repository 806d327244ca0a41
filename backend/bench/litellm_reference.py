"""The reference: LiteLLM proxy 1.110.2 (`litellm --config`, no database, one worker).

It runs from its own virtual environment (`make bench` builds it from litellm-proxy.lock), with
the two nginx prefixes as two models and a master key, so that it authenticates each call as the
service does. It gets the same offline switches the service sets for litellm: without them its
start-up would include failed downloads of a price list.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nginx_upstream
from wrk_load import Calls, Endpoint

BENCH_DIR = Path(__file__).resolve().parent
LITELLM = BENCH_DIR / ".venv-litellm-proxy" / "bin" / "litellm"
MASTER_KEY = "sk-bench-master-key"
PLAIN_MODEL, STREAM_MODEL, STREAM200_MODEL = "bench-model", "bench-stream", "bench-stream200"
# Its /v1/responses on an `openai/` model would call the upstream's Responses API; under
# `openai/chat_completions/` it translates onto chat completions, as the service does.
RESPONSES_PLAIN_MODEL, RESPONSES_STREAM_MODEL = "bench-responses", "bench-responses-stream"
OFFLINE = {
    "LITELLM_OFFLINE_MODE": "true",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
}


def config(upstream: str) -> str:
    """The proxy's config (JSON is YAML): one model per nginx prefix it is measured on."""
    models = [
        {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{route}{nginx_upstream.MODEL}",
                "api_base": upstream + prefix,
                "api_key": "sk-bench-upstream",
            },
        }
        for name, prefix, route in (
            (PLAIN_MODEL, nginx_upstream.PLAIN_PREFIX, ""),
            (STREAM_MODEL, nginx_upstream.STREAM_PREFIX, ""),
            (STREAM200_MODEL, nginx_upstream.STREAM200_PREFIX, ""),
            (RESPONSES_PLAIN_MODEL, nginx_upstream.PLAIN_PREFIX, "chat_completions/"),
            (RESPONSES_STREAM_MODEL, nginx_upstream.STREAM_PREFIX, "chat_completions/"),
        )
    ]
    return json.dumps({"model_list": models, "general_settings": {"master_key": MASTER_KEY}})


def command(upstream: str, port: int, work: Path) -> list[str]:
    if not LITELLM.exists():
        raise SystemExit(f"{LITELLM} is missing: `make bench` installs LiteLLM proxy there")
    conf = work / "litellm-proxy.yaml"
    conf.write_text(config(upstream))
    return [
        str(LITELLM), "--config", str(conf), "--host", "127.0.0.1", "--port", str(port),
        "--num_workers", "1",
    ]  # fmt: skip


# Its /v1/messages on an `openai/` model would call the upstream's Responses API; the service
# translates onto chat completions, and so is LiteLLM proxy told to (surfaces.py compares them).
MESSAGES_ON_CHAT = {"LITELLM_USE_CHAT_COMPLETIONS_URL_FOR_ANTHROPIC_MESSAGES": "true"}


def environment(work: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(work), **OFFLINE, **MESSAGES_ON_CHAT}


def endpoints(base: str, messages: list[dict[str, str]]) -> Calls:
    """The proxy's chat completions, one model per scenario."""
    url = f"{base}/v1/chat/completions"

    def call(model: str, *, stream: bool = False) -> Endpoint:
        body = {"model": model, "messages": messages} | ({"stream": True} if stream else {})
        return Endpoint(url, body, MASTER_KEY)

    return Calls(
        call(PLAIN_MODEL), call(STREAM_MODEL, stream=True), call(STREAM200_MODEL, stream=True)
    )
