"""No secret in a log line, whatever the level: a state in a path is redacted like one in a query,
and SQL (whose parameters carry ciphertext, hashes and names) is never logged, nor its parameters
put in an error message."""

from __future__ import annotations

import io
import logging
import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.core.database import create_engine
from app.core.logging import configure_logging, redact


@pytest.mark.parametrize(
    "path",
    ["GET /api/v1/oauth/sessions/{state} HTTP/1.1", "POST /api/v1/oauth/sessions/{state}/input",
     "DELETE /api/v1/oauth/sessions/{state}", "/api/v1/oauth/sessions/{state}/live"],
)  # fmt: skip
def test_a_state_in_a_path_is_redacted(path):
    state = secrets.token_urlsafe(32)
    assert state not in redact(path.format(state=state))


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
async def test_sql_and_its_parameters_are_never_logged(tmp_path, level):
    stream = io.StringIO()
    configure_logging(level, json_lines=True, stream=stream)
    marker = f"secret-{secrets.token_hex(8)}"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'log.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": marker})
        with pytest.raises(IntegrityError) as failed:
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (:v)"), {"v": marker})
    finally:
        await engine.dispose()
        configure_logging("INFO", json_lines=True)
    assert marker not in str(failed.value)
    assert marker not in stream.getvalue()
    assert logging.getLogger("sqlalchemy.engine").getEffectiveLevel() >= logging.WARNING
