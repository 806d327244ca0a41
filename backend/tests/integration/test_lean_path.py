"""The lean path beside litellm, scenario by scenario: the same scripted platform behaviour is
called once through each, on fresh accounts, and what the caller gets (status, body or events,
ids and timestamps aside), the usage recorded and the account's state afterwards must be the
same. Platforms on litellm providers other than `openai` never take the lean path."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.api.deps import app_context
from app.services.calls import passthrough
from app.services.calls.stream_relay import ChatChunks
from tests.conftest import API_BASES, new_user
from tests.fakes.upstream import Drop, ErrorIn200, MidStreamError, Reply, errors
from tests.helpers.api import account, accounts_by_id
from tests.helpers.calls import fake_of, seed_call, sse_events

ZHIPU_IN_200 = {"error": {"code": "1113", "message": "您的账户已欠费，请充值后重试。"}}
SCENARIOS = [  # (platform, stream, behaviours scripted on the account, call parameters)
    ("openai", False, [Reply(text="one two three")], {}),
    ("openai", True, [Reply(text="one two three four", chunks=4)], {}),
    ("openai", True, [Reply(text="a b")], {"stream_options": {"include_usage": True}}),
    ("openai", True, [Reply(text=" ".join(map(str, range(200))), chunks=200)], {}),
    ("zhipu", False, [Reply(text="你好")], {"temperature": 0.2, "max_tokens": 30}),
    ("spark", True, [Reply(text="x y z", chunks=3)], {}),
    ("openai", False, [errors.openai_rate_limited(retry_after=7)], {}),
    ("openai", False, [errors.openai_insufficient_quota()], {}),
    ("openai", False, [errors.openai_invalid_key()], {}),
    ("zhipu", False, [errors.zhipu("1302")], {}),
    ("zhipu", False, [errors.zhipu("1113")], {}),
    ("spark", False, [errors.spark("11202")], {}),
    ("openai", False, [ErrorIn200(ZHIPU_IN_200)], {}),
    ("openai", False, [Drop()], {}),
    ("openai", False, [Drop(reset=True)], {}),
    ("openai", True, [Drop(after_chunks=2)], {}),
    ("openai", True, [MidStreamError(0, {"error": {"message": "overloaded", "code": "503"}})], {}),
    ("openai", True, [MidStreamError(2, {"error": {"message": "broke", "code": "500"}})], {}),
]
PROMPT = [{"role": "user", "content": "Say hello to the lean path"}]
_VOLATILE = re.compile(r"chatcmpl-[\w-]+|account \d+|request id \w+|in \d+ s\b")


async def outcome(app, client, platform_fakes, platform, stream, behaviours, params) -> dict:
    auth = await new_user(app)  # one account: failover has nowhere else to go
    bound = await account(client, auth, platform)
    fake_of(platform_fakes, platform).script(*behaviours, credential=bound["key"])
    # The same words both times: a broken stream's usage is counted from them.
    response = await seed_call(client, auth, platform, stream=stream, messages=PROMPT, **params)
    shown = (await accounts_by_id(client, auth))[bound["id"]]
    return {
        "status": response.status_code,
        "retry_after": response.headers.get("retry-after") is not None,
        "answer": _steady(sse_events(response.text) if stream else response.json()),
        "account": {k: shown[k] for k in ("status", "quota_used", "is_expired")},
        "cooldowns": [(c["reason"], c["model"]) for c in shown.get("cooldowns") or []],
    }


def _steady(value: Any) -> Any:
    """The value without what differs between any two calls: ids, timestamps."""
    if isinstance(value, dict):
        return {k: _steady(v) for k, v in value.items() if k not in ("id", "created")}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    if isinstance(value, str):
        return _VOLATILE.sub("…", value)
    return value


@pytest.mark.parametrize(("platform", "stream", "behaviours", "params"), SCENARIOS)
async def test_the_lean_path_answers_as_litellm_does(
    app, client, platform_fakes, platform, stream, behaviours, params, monkeypatch
):
    """Streams on the lean path both ways: relayed as bytes (chat completions), and as parsed
    chunks (what a surface that translates them reads)."""
    proxy = app_context(app).call_path
    ways = {"litellm": (False, False), "lean": (True, False)}
    if stream:
        ways["lean, parsed"] = (True, True)
    opened = proxy.open_stream

    async def parsed(call: Any) -> Any:  # made into OpenAI's events again, as a surface would
        return await opened(call, ChatChunks(include_usage=call.include_usage))

    seen = {}
    try:
        for way, (lean, as_parsed) in ways.items():
            proxy.settings.call_lean_path = lean
            monkeypatch.setattr(proxy, "open_stream", parsed if as_parsed else opened)
            seen[way] = await outcome(
                app, client, platform_fakes, platform, stream, behaviours, params
            )
    finally:
        proxy.settings.call_lean_path = True
    assert all(outcome == seen["litellm"] for outcome in seen.values())


async def test_only_openai_wire_platforms_take_the_lean_path(app):
    platforms = await app_context(app).call_path.admission.cache.platforms(app_context(app).factory)
    shipped = {p for p in platforms if p in API_BASES}  # other tests add platforms of their own
    lean = {p for p in shipped if passthrough.eligible(platforms[p])}
    assert lean == {"openai", "baidu", "zhipu", "spark"} and len(shipped) == 8
