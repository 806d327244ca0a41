"""An account whose key the platform refuses (401): the caller gets one stable, non-retryable
answer — the same on the first call and every later one — saying the account must be bound
again, and the `account_expired` alert is raised at once."""

from __future__ import annotations

import httpx
import openai
import pytest
from sqlalchemy import select

from app.api.deps import app_context
from app.models import Alert
from tests.fakes.upstream import errors
from tests.helpers.api import account, accounts_by_id, create_api_key
from tests.helpers.calls import said


@pytest.mark.parametrize(
    ("platform", "refusal"),
    [("openai", errors.openai_invalid_key), ("qwen", errors.dashscope_invalid_key)],
)
async def test_a_refused_key_gets_one_stable_answer_and_raises_the_alert(
    app, client, auth, platform_fakes, platform, refusal
):
    bound = await account(client, auth, platform)
    key = (await create_api_key(client, auth))["key"]
    platform_fakes.openai.script(refusal(), credential=bound["key"])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        # The SDK's own retries on: a retryable answer would be asked again.
        sdk = openai.AsyncOpenAI(
            base_url="http://testserver/v1", api_key=key, http_client=http, max_retries=2
        )
        answers = []
        for _ in range(2):
            with pytest.raises(openai.BadRequestError) as refused:
                await sdk.chat.completions.create(model=platform, messages=said())
            answers.append((refused.value.status_code, refused.value.code, refused.value.message))

    assert answers[0] == answers[1]
    status, code, message = answers[0]
    assert (status, code) == (400, "account_expired")
    assert "must be bound again" in message and "bind the account again" in message
    seen = [r for r in platform_fakes.openai.model_requests if r.credential == bound["key"]]
    assert len(seen) == 1  # asked once; never again while it stays refused
    assert (await accounts_by_id(client, auth))[bound["id"]]["status"] == "expired"
    async with app_context(app).factory() as session:
        alert = await session.scalar(
            select(Alert).where(Alert.open_key == f"account_expired:account:{bound['id']}")
        )
    assert alert is not None and alert.account_id == bound["id"]
