"""Re-encrypt every stored credential under the newest key (the first in CREDENTIAL_KEYS).

    CREDENTIAL_KEYS="k2:<new>,k1:<old>" python scripts/rotate_credential_keys.py

Safe to interrupt and to run again: accounts are re-encrypted in small committed batches, and an
account already under the newest key is skipped. When it reports 0 remaining, the old key can be
removed from CREDENTIAL_KEYS.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import get_settings
from app.core.crypto import CredentialCipher
from app.core.database import (
    create_engine,
    create_session_factory,
    session_scope,
)
from app.services import audit, platform_secrets
from app.services.oauth.credential_store import CredentialStore
from app.services.oauth.key_rotation import rotate_all


async def run() -> int:
    settings = get_settings()
    assert settings.credential_keys is not None
    store = CredentialStore(CredentialCipher.from_spec(settings.credential_keys.get_secret_value()))
    engine = create_engine(settings.effective_database_url)
    factory = create_session_factory(engine)
    try:
        report = await rotate_all(factory, store)
        async with session_scope(factory) as session:
            platforms = await platform_secrets.seal_all(session, store.cipher)
        async with session_scope(factory) as session:
            audit.record(
                session, "credential.rotate", user_id=None,
                target=f"key:{store.cipher.current_key_id}",
                outcome="success" if report.remaining == 0 and not report.unreadable else "partial",
                detail={"rotated": report.rotated, "remaining": report.remaining,
                        "unreadable": len(report.unreadable)},
            )  # fmt: skip
    finally:
        await engine.dispose()
    print(
        f"re-encrypted {report.rotated} account(s) under key {store.cipher.current_key_id!r}; "
        f"{report.remaining} remaining; {platforms} platform client secret(s) re-encrypted"
    )
    if report.unreadable:
        print(f"unreadable with every configured key: account ids {report.unreadable}")
    return 0 if report.remaining == 0 and not report.unreadable else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(run()))
