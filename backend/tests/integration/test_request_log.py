"""The request log on SQLite, PostgreSQL and MariaDB: real calls through the service on the fakes
leave one row each with what was asked, what served it, how it ended and how long it took —
answered, failed over, refused, out of accounts, on the OpenAI and Anthropic surfaces — each user
sees only their own, administrators everyone's, a page at a time; the sweeper prunes old rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.main import create_app
from app.services.platforms import upsert_platforms
from app.services.request_log.trace import Row
from tests.conftest import make_settings, migrate_async, new_user, shipped_platforms_on
from tests.fakes.upstream import errors
from tests.fakes.upstream.behaviours import Drop
from tests.helpers.api import account
from tests.helpers.calls import fake_of, said, sse_events
from tests.helpers.databases import empty_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mariadb", marks=pytest.mark.mysql),
]


@pytest.fixture(params=BACKENDS, scope="module")
async def service(request, tmp_path_factory, platform_fakes) -> AsyncIterator[Any]:
    folder = tmp_path_factory.mktemp("request-log")
    async with empty_database(request.param, folder) as url:
        await migrate_async(url)
        app = create_app(make_settings(url, background_jobs=False))
        async with app.router.lifespan_context(app):
            async with session_scope(app_context(app).factory) as session:
                await upsert_platforms(session, shipped_platforms_on(platform_fakes))
            yield app


@pytest.fixture
async def http(service) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def logged(http: httpx.AsyncClient, auth: dict[str, str], **query: Any) -> list[dict]:
    response = await http.get("/api/v1/oauth/requests", params=query, headers=auth)
    assert response.status_code == 200, response.text
    rows: list[dict] = response.json()["data"]
    return rows


async def chat(http: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> httpx.Response:
    payload = {"model": "zhipu/glm-4-flash", "messages": said()} | body
    return await http.post("/v1/chat/completions", json=payload, headers=auth)


async def test_answered_calls_are_logged_with_what_served_them(service, http, platform_fakes):
    auth = await new_user(service)
    bound = await account(http, auth, "zhipu")

    answer = await chat(http, auth)
    assert answer.status_code == 200, answer.text
    streamed = await chat(http, auth, stream=True, stream_options={"include_usage": True})
    assert streamed.status_code == 200
    told = [e for e in sse_events(streamed.text) if isinstance(e, dict) and e.get("usage")]

    stream_row, row = await logged(http, auth)
    listed = (await http.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    assert listed[0]["calls"]["calls"] == 2 and listed[0]["calls"]["success_rate"] == 1.0
    assert listed[0]["calls"]["median_latency_ms"] >= 0 and listed[0]["calls"]["last_error"] is None
    usage = answer.json()["usage"]
    assert row["surface"] == "/v1/chat/completions"
    assert (row["model_asked"], row["platform_id"], row["model"]) == (
        "zhipu/glm-4-flash", "zhipu", "glm-4-flash",
    )  # fmt: skip
    assert (row["account_id"], row["status"], row["attempts"]) == (bound["id"], 200, 1)
    assert (row["error_kind"], row["error_code"], row["route"]) == (None, None, None)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (
        usage["prompt_tokens"], usage["completion_tokens"],
    )  # fmt: skip
    assert 0 <= row["first_byte_ms"] <= row["latency_ms"]
    assert stream_row["id"] > row["id"]
    assert stream_row["prompt_tokens"] == told[-1]["usage"]["prompt_tokens"]
    assert stream_row["completion_tokens"] == told[-1]["usage"]["completion_tokens"]
    assert 0 <= stream_row["first_byte_ms"] <= stream_row["latency_ms"]
    # Never the prompt or the answer.
    asked = said()[0]["content"].split()[0]
    assert all(asked not in str(value) for value in row.values())


async def test_a_stream_broken_after_its_first_byte_is_logged_as_failed(
    service, http, platform_fakes
):
    auth = await new_user(service)
    bound = await account(http, auth, "zhipu")
    fake_of(platform_fakes, "zhipu").script(Drop(after_chunks=2), credential=bound["key"])

    streamed = await chat(http, auth, stream=True)
    assert streamed.status_code == 200  # the stream had begun: the error is its last event
    (row,) = await logged(http, auth)
    assert (row["status"], row["account_id"], row["attempts"]) == (200, bound["id"], 1)
    assert row["error_kind"] == "network" and row["error_code"]
    assert row["completion_tokens"] is not None and row["first_byte_ms"] is not None
    assert [r["id"] for r in await logged(http, auth, status="error")] == [row["id"]]


async def test_an_answer_from_the_cache_is_logged_without_an_attempt(service, http):
    auth = await new_user(service)
    await account(http, auth, "zhipu")
    asked = said()
    for _ in range(2):
        answer = await chat(http, auth, messages=asked, temperature=0)
        assert answer.status_code == 200, answer.text
    assert answer.headers["x-cache"] == "hit"

    cached, called = await logged(http, auth)
    assert (called["attempts"], called["prompt_tokens"] is not None) == (1, True)
    assert (cached["platform_id"], cached["model"], cached["status"]) == (
        "zhipu", "glm-4-flash", 200,
    )  # fmt: skip
    assert (cached["attempts"], cached["account_id"], cached["prompt_tokens"]) == (0, None, None)


async def test_a_failed_over_call_counts_its_attempts(service, http, platform_fakes):
    auth = await new_user(service)
    first = await account(http, auth, "zhipu")
    second = await account(http, auth, "zhipu")
    # One failure in the queue every credential shares: whichever account is tried first rests.
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1302"))

    answer = await chat(http, auth)
    assert answer.status_code == 200, answer.text
    (row,) = await logged(http, auth)
    assert row["attempts"] == 2
    assert row["status"] == 200 and row["error_kind"] is None
    assert row["account_id"] in (first["id"], second["id"])
    resting = await http.get("/api/v1/oauth/accounts", headers=auth)
    statuses = {a["id"]: a["status"] for a in resting.json()["data"]}
    assert statuses[row["account_id"]] == "active"
    assert sorted(statuses.values()) == ["active", "cooling"]


async def test_refusals_and_exhausted_calls_are_logged(service, http, platform_fakes):
    auth = await new_user(service)
    bound = await account(http, auth, "zhipu")
    fake_of(platform_fakes, "zhipu").script(errors.zhipu("1302"), credential=bound["key"])

    unknown = await chat(http, auth, model="nowhere/none")
    assert unknown.status_code == 404
    resting = await chat(http, auth)
    assert resting.status_code == 429
    invalid = await http.post("/v1/chat/completions", json={"model": 3}, headers=auth)
    assert invalid.status_code == 400

    bad, spent, missing = await logged(http, auth)
    assert (missing["status"], missing["model_asked"], missing["attempts"]) == (
        404, "nowhere/none", 0,
    )  # fmt: skip
    assert missing["error_code"] and missing["account_id"] is None
    assert (spent["status"], spent["attempts"], spent["account_id"]) == (429, 1, bound["id"])
    assert spent["error_kind"] == "rate_limited"
    assert (bad["status"], bad["error_code"]) == (400, "validation_error")
    assert [r["id"] for r in await logged(http, auth, status="error")] == [
        bad["id"], spent["id"], missing["id"],
    ]  # fmt: skip
    assert await logged(http, auth, status="ok") == []
    assert [r["id"] for r in await logged(http, auth, status="429")] == [spent["id"]]
    # The account's health sums its rows up (the account list's queries on this database).
    listed = (await http.get("/api/v1/oauth/accounts", headers=auth)).json()["data"]
    calls = next(a for a in listed if a["id"] == bound["id"])["calls"]
    assert (calls["calls"], calls["success_rate"], calls["median_latency_ms"]) == (1, 0.0, None)
    assert calls["last_error"]["status"] == 429
    assert calls["last_error"]["error_kind"] == "rate_limited"


async def test_the_anthropic_surface_is_logged_and_counting_tokens_is_not(
    service, http, platform_fakes
):
    auth = await new_user(service)
    await account(http, auth, "zhipu")
    body = {"model": "zhipu/glm-4-flash", "max_tokens": 50, "messages": said()}
    answer = await http.post("/v1/messages", json=body, headers=auth)
    assert answer.status_code == 200, answer.text
    counted = await http.post("/v1/messages/count_tokens", json=body, headers=auth)
    assert counted.status_code == 200, counted.text
    gemini = {"contents": [{"role": "user", "parts": [{"text": said()[0]["content"]}]}]}
    generated = await http.post(
        "/v1beta/models/zhipu/glm-4-flash:generateContent", json=gemini, headers=auth
    )
    assert generated.status_code == 200, generated.text

    google, row = await logged(http, auth)
    assert row["surface"] == "/v1/messages"
    assert row["completion_tokens"] == answer.json()["usage"]["output_tokens"]
    # The endpoint as declared, not the model its path names.
    assert google["surface"] == "/v1beta/models/{model}:generateContent"
    assert (google["model_asked"], google["status"]) == ("zhipu/glm-4-flash", 200)


async def test_each_user_sees_their_own_and_an_administrator_everyones(service, http):
    alice, bob = await new_user(service), await new_user(service)
    admin = await new_user(service, admin=True)
    for auth in (alice, alice, alice, bob):
        assert (await chat(http, auth, model="nowhere/none")).status_code == 404

    mine = await logged(http, alice)
    assert len(mine) == 3 and len({r["user_id"] for r in mine}) == 1
    (theirs,) = await logged(http, bob)
    assert theirs["user_id"] != mine[0]["user_id"]
    # Paging: newest first, `before_id` continues where a page ended.
    first = await logged(http, alice, limit=2)
    rest = await logged(http, alice, limit=2, before_id=first[-1]["id"])
    assert [r["id"] for r in first + rest] == [r["id"] for r in mine]
    # Filters that match nothing of alice's.
    assert await logged(http, alice, platform="zhipu") == []
    assert await logged(http, alice, since=(utcnow() + timedelta(hours=1)).isoformat()) == []
    assert len(await logged(http, alice, until=(utcnow() + timedelta(hours=1)).isoformat())) == 3

    refused = await http.get("/api/v1/admin/requests", headers=alice)
    assert refused.status_code == 403
    everyone = await http.get(
        "/api/v1/admin/requests", params={"user_id": theirs["user_id"]}, headers=admin
    )
    assert [r["id"] for r in everyone.json()["data"]] == [theirs["id"]]
    assert everyone.json()["data"][0]["username"].startswith("user-")
    assert theirs["username"] is None  # a user's own log does not name them
    both = (await http.get("/api/v1/admin/requests", headers=admin)).json()["data"]
    assert {r["id"] for r in mine} | {theirs["id"]} <= {r["id"] for r in both}


async def test_odd_filters_answer_400_in_the_envelope(service, http):
    auth = await new_user(service)
    for query in ({"status": "maybe"}, {"since": "yesterday"}, {"since": "2026-12-01T00:00:00"}):
        response = await http.get("/api/v1/oauth/requests", params=query, headers=auth)
        assert response.status_code == 422, response.text
        assert response.json()["error_code"] == "validation_error"


async def test_the_sweeper_prunes_rows_past_the_retention(service, http):
    auth = await new_user(service)
    assert (await chat(http, auth, model="nowhere/none")).status_code == 404
    (recent,) = await logged(http, auth)
    ctx = app_context(service)
    old = Row(
        created_at=utcnow() - timedelta(days=ctx.settings.request_log_retention_days, hours=1),
        user_id=recent["user_id"], surface="/v1/chat/completions", model_asked="m", route=None,
        platform_id=None, model=None, account_id=None, status=404, error_kind=None,
        error_code="model_not_found", attempts=0, latency_ms=1, first_byte_ms=None,
        prompt_tokens=None, completion_tokens=None,
    )  # fmt: skip
    await ctx.call_path.books.write(old)
    assert len(await logged(http, auth)) == 2

    await ctx.jobs.sweep()
    assert [r["id"] for r in await logged(http, auth)] == [recent["id"]]
