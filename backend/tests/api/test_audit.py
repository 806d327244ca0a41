"""The audit log: sensitive operations are recorded with who, what, when and from where — and
never a secret."""

from __future__ import annotations

from tests.conftest import new_user, sign_up
from tests.helpers.api import bind


async def events(client, admin, **params) -> list[dict]:
    response = await client.get("/api/v1/admin/audit", params=params, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_account_lifecycle_is_audited(app, client):
    admin = await new_user(app, admin=True)
    user = await new_user(app)
    key = "sk-audited-0123456789abcdef"
    account = await bind(client, user, credentials={"api_key": key})
    target = f"account:{account['id']}"
    await client.put(f"/api/v1/oauth/accounts/{account['id']}/toggle", headers=user)
    await client.post(f"/api/v1/oauth/accounts/{account['id']}/refresh", headers=user)
    await client.delete(f"/api/v1/oauth/accounts/{account['id']}", headers=user)
    mine = [e for e in await events(client, admin, limit=50) if e["target"] == target]
    assert [e["action"] for e in reversed(mine)] == [
        "account.create", "account.disable", "account.refresh", "account.delete",
    ]  # fmt: skip
    create = mine[-1]
    assert create["detail"] == {"platform": "qwen", "method": "api_key"}
    assert create["client"] == "127.0.0.1" and len(create["request_id"]) == 32
    assert key not in str(await events(client, admin, limit=500))


async def test_sign_ins_are_audited_including_failures(app, client):
    admin = await new_user(app, admin=True)
    await sign_up(client, "audited-user")
    await client.post(
        "/api/v1/auth/login", json={"username": "audited-user", "password": "not the password"}
    )
    sign_ins = await events(client, admin, action="user.sign_in")
    outcomes = [(e["target"], e["outcome"]) for e in sign_ins[:2]]
    assert outcomes == [("user:audited-user", "failure"), ("user:audited-user", "success")]
    assert "not the password" not in str(sign_ins)


async def test_the_audit_log_is_for_administrators(app, client, auth):
    response = await client.get("/api/v1/admin/audit", headers=auth)
    assert response.status_code == 403


async def test_the_audit_log_names_who_and_filters_by_user_with_paging(app, client):
    admin = await new_user(app, admin=True)
    first, second = await new_user(app), await new_user(app)
    for user in (first, second, first):
        await client.post("/api/v1/auth/api-keys", json={"name": "audited"}, headers=user)
    me = (await client.get("/api/v1/auth/me", headers=first)).json()["data"]
    theirs = await events(client, admin, user_id=me["id"], action="api_key.create")
    assert len(theirs) == 2
    assert {(e["user_id"], e["username"]) for e in theirs} == {(me["id"], me["username"])}
    older = await events(client, admin, user_id=me["id"], action="api_key.create", limit=1)
    page_two = await events(
        client, admin, user_id=me["id"], action="api_key.create", before_id=older[0]["id"]
    )
    assert [e["id"] for e in older + page_two] == [e["id"] for e in theirs]
    system = [e for e in await events(client, admin, limit=500) if e["user_id"] is None]
    assert all(e["username"] is None for e in system)
