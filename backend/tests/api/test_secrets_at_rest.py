"""Credentials stored through the API are ciphertext in the database and absent from the logs."""

from __future__ import annotations

import io
import logging

from sqlalchemy import text

from app.api.deps import app_context
from app.core.logging import configure_logging
from tests.helpers.api import bind

API_KEY = "sk-rawcheck-9f8e7d6c5b4a39281706"


async def test_raw_rows_hold_no_plaintext_credential(app, client, auth):
    account = await bind(client, auth, credentials={"api_key": API_KEY})
    async with app_context(app).engine.connect() as connection:
        row = (
            (
                await connection.execute(
                    text("SELECT * FROM oauth_accounts WHERE id = :id"), {"id": account["id"]}
                )
            )
            .mappings()
            .one()
        )
    dumped = " ".join(str(value) for value in row.values())
    assert API_KEY not in dumped
    assert API_KEY[3:15] not in dumped
    assert row["access_token"].startswith("enc:v1:test:")
    # The store itself still reads it back.
    from app.models import OAuthAccount

    async with app_context(app).factory() as session:
        stored = await session.get(OAuthAccount, account["id"])
        assert app_context(app).store.load(stored).access_token == API_KEY


async def test_no_log_line_of_the_request_contains_the_key(app, client, auth):
    stream = io.StringIO()
    configure_logging("DEBUG", json_lines=True, stream=stream)
    try:
        await bind(client, auth, credentials={"api_key": API_KEY})
        await client.get("/api/v1/oauth/accounts", headers=auth)
        logging.getLogger("app.test").info("debug dump %s", {"api_key": API_KEY})
    finally:
        configure_logging("INFO", json_lines=True)
    output = stream.getvalue()
    assert output  # something was logged at DEBUG (SQL, the dump above)
    assert API_KEY not in output
    assert auth["Authorization"].split()[1] not in output
