"""The alert lists: administrators see every alert, a user only their own; both filter by state
and page by id, in the seed's envelope, with their response model in the OpenAPI schema."""

from __future__ import annotations

import uuid
from typing import Any

from app.api.deps import app_context
from app.core.database import session_scope, utcnow
from app.models import Alert
from tests.conftest import new_user


async def user_id(client: Any, auth: dict[str, str]) -> int:
    return int((await client.get("/api/v1/auth/me", headers=auth)).json()["data"]["id"])


async def add_alert(app: Any, *, user: int | None, resolved: bool = False, **values: Any) -> int:
    subject = f"test:{uuid.uuid4().hex}"
    kind = values.pop("kind", "accounts_exhausted")
    async with session_scope(app_context(app).factory) as session:
        alert = Alert(
            kind=kind,
            subject=subject,
            open_key=None if resolved else f"{kind}:{subject}",
            user_id=user,
            platform_id="qwen",
            message=values.pop("message", "All of your 通义千问 accounts are out of quota."),
            resolved_at=utcnow() if resolved else None,
            **values,
        )
        session.add(alert)
        await session.flush()
        return alert.id


async def test_alert_lists_need_a_user_and_the_admin_list_an_administrator(client, auth):
    assert (await client.get("/api/v1/oauth/alerts")).status_code == 401
    assert (await client.get("/api/v1/admin/alerts")).status_code == 401
    refused = await client.get("/api/v1/admin/alerts", headers=auth)
    assert refused.status_code == 403
    assert refused.json() == {
        "code": 403,
        "message": "This needs an administrator.",
        "data": None,
        "error_code": "forbidden",
    }


async def test_a_user_sees_only_their_own_alerts_open_or_resolved(app, client):
    alice, bob = await new_user(app), await new_user(app)
    alice_id, bob_id = await user_id(client, alice), await user_id(client, bob)
    open_id = await add_alert(app, user=alice_id)
    resolved_id = await add_alert(app, user=alice_id, resolved=True, kind="account_expired")
    await add_alert(app, user=bob_id)
    await add_alert(app, user=None, kind="success_rate_low", message="platform-wide")

    body = (await client.get("/api/v1/oauth/alerts", headers=alice)).json()
    assert body["code"] == 200 and body["message"] == "success"
    assert [a["id"] for a in body["data"]] == [resolved_id, open_id]  # newest first
    first = body["data"][1]
    assert set(first) == {
        "id", "kind", "platform_id", "user_id", "account_id", "message", "created_at",
        "resolved_at",
    }  # fmt: skip
    assert first["user_id"] == alice_id and first["resolved_at"] is None
    opened = await client.get("/api/v1/oauth/alerts?state=open", headers=alice)
    assert [a["id"] for a in opened.json()["data"]] == [open_id]
    resolved = await client.get("/api/v1/oauth/alerts?state=resolved", headers=alice)
    assert [a["id"] for a in resolved.json()["data"]] == [resolved_id]
    assert (await client.get("/api/v1/oauth/alerts?state=maybe", headers=alice)).status_code == 422


async def test_an_administrator_sees_every_alert_and_pages_through_them(app, client):
    admin = await new_user(app, admin=True)
    someone = await new_user(app)
    ids = [
        await add_alert(app, user=await user_id(client, someone)),
        await add_alert(app, user=None, kind="success_rate_low"),
        await add_alert(app, user=None, kind="success_rate_low", resolved=True),
    ]
    everything = (await client.get("/api/v1/admin/alerts?limit=500", headers=admin)).json()
    listed = [a["id"] for a in everything["data"]]
    assert set(ids) <= set(listed) and listed == sorted(listed, reverse=True)

    page = await client.get(f"/api/v1/admin/alerts?limit=2&before_id={ids[2]}", headers=admin)
    assert [a["id"] for a in page.json()["data"]] == [ids[1], ids[0]]
    opened = (await client.get("/api/v1/admin/alerts?state=open&limit=500", headers=admin)).json()
    assert all(a["resolved_at"] is None for a in opened["data"])
    assert ids[2] not in [a["id"] for a in opened["data"]]
    resolved = await client.get("/api/v1/admin/alerts?state=resolved&limit=500", headers=admin)
    assert ids[2] in [a["id"] for a in resolved.json()["data"]]


async def test_the_alert_routes_document_their_response_model(app):
    schema = app.openapi()
    for path in ("/api/v1/oauth/alerts", "/api/v1/admin/alerts"):
        answer = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert answer["schema"]["$ref"].endswith("Envelope_list_AlertOut__")
    alert = schema["components"]["schemas"]["AlertOut"]
    assert alert["properties"]["kind"]["enum"] == [
        "account_expired",
        "success_rate_low",
        "accounts_exhausted",
        "budget_reached",
    ]
