"""Paging cursors: an id past 64 bits is refused like any invalid query, never a server error
(found by tests/api/test_openapi_fuzz.py: SQLite cannot bind such an integer)."""

from __future__ import annotations

import pytest

from tests.conftest import new_user

PAGED_ROUTES = [
    "/api/v1/admin/audit",
    "/api/v1/admin/alerts",
    "/api/v1/oauth/alerts",
    "/api/v1/oauth/requests",
    "/api/v1/admin/requests",
]


@pytest.mark.parametrize("route", PAGED_ROUTES)
async def test_a_cursor_past_64_bits_is_refused_as_invalid(app, client, route):
    admin = await new_user(app, admin=True)
    response = await client.get(f"{route}?before_id={2**64}", headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("Invalid request: query.before_id")


@pytest.mark.parametrize("route", PAGED_ROUTES)
async def test_the_largest_cursor_pages_from_the_newest(app, client, route):
    admin = await new_user(app, admin=True)
    response = await client.get(f"{route}?before_id={2**63 - 1}&limit=1", headers=admin)
    assert response.status_code == 200, response.text
