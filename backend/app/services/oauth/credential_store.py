"""Reading and writing an account's secrets, always through the cipher.

Each secret is bound to its row and column (`oauth_accounts.<column>:<id>`), so the row must have
an id before anything is encrypted into it: `store` flushes a new account first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.crypto import CredentialCipher
from app.models import OAuthAccount

SECRET_COLUMNS = ("cookies", "access_token", "refresh_token", "secret_extra")


@dataclass
class AccountSecrets:
    """The plaintext secrets of one account, alive only while a request needs them."""

    access_token: str | None = None
    refresh_token: str | None = None
    cookies: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _aad(account: OAuthAccount, column: str) -> str:
    return f"oauth_accounts.{column}:{account.id}"


def mask(secret: str) -> str:
    """`sk-…a1b2`: the prefix up to its first dash (at most 6 characters) and the last 4."""
    if len(secret) <= 8:
        return "…"
    head, dash, _ = secret[:7].partition("-")
    prefix = head + dash if dash else ""
    return f"{prefix}…{secret[-4:]}"


class CredentialStore:
    def __init__(self, cipher: CredentialCipher) -> None:
        self.cipher = cipher

    async def store(
        self, session: AsyncSession, account: OAuthAccount, secrets: AccountSecrets
    ) -> None:
        if account.id is None:
            await session.flush()
        seal = self.cipher.encrypt
        account.access_token = (
            seal(secrets.access_token, _aad(account, "access_token"))
            if secrets.access_token
            else None
        )
        account.refresh_token = (
            seal(secrets.refresh_token, _aad(account, "refresh_token"))
            if secrets.refresh_token
            else None
        )
        # The seed's `cookies` column is JSON: it holds the ciphertext as a JSON string.
        account.cookies = (
            seal(orjson.dumps(secrets.cookies).decode(), _aad(account, "cookies"))
            if secrets.cookies
            else None
        )
        account.secret_extra = (
            seal(orjson.dumps(secrets.extra).decode(), _aad(account, "secret_extra"))
            if secrets.extra
            else None
        )

    def load(self, account: OAuthAccount) -> AccountSecrets:
        open_ = self.cipher.decrypt
        return AccountSecrets(
            access_token=open_(account.access_token, _aad(account, "access_token"))
            if account.access_token
            else None,
            refresh_token=open_(account.refresh_token, _aad(account, "refresh_token"))
            if account.refresh_token
            else None,
            cookies=orjson.loads(open_(account.cookies, _aad(account, "cookies")))
            if account.cookies
            else None,
            extra=orjson.loads(open_(account.secret_extra, _aad(account, "secret_extra")))
            if account.secret_extra
            else {},
        )

    def reencrypt(self, account: OAuthAccount) -> bool:
        """Move every secret of the account to the current key; True if anything changed."""
        changed = False
        for column in SECRET_COLUMNS:
            stored = getattr(account, column)
            if stored and self.cipher.needs_rotation(stored):
                plain = self.cipher.decrypt(stored, _aad(account, column))
                setattr(account, column, self.cipher.encrypt(plain, _aad(account, column)))
                changed = True
        return changed
