"""Baidu ERNIE on Qianfan v2: a permanent `bce-v3/…` key, or an AK/SK pair exchanged for a
bearer token (IAM `BCE-BEARER`, signed with bce-auth-v1) that is renewed before it expires."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from app.core.database import utcnow
from app.core.errors import BadRequest
from app.services.oauth.adapters.base import (
    BoundCredential,
    RefreshRejected,
    required,
    with_secrets,
)
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter
from app.services.oauth.credential_store import AccountSecrets, mask

TOKEN_LIFETIME_S = 30 * 24 * 3600  # the longest IAM grants
SIGNATURE_VALID_S = 1800


def _uri_encode(value: str, safe: str = "") -> str:
    return quote(value, safe=safe + "-_.~")


def bce_authorization(
    access_key: str, secret_key: str, method: str, url: str, params: dict[str, str], now: datetime
) -> tuple[str, str]:
    """The bce-auth-v1 `Authorization` header (signing `host`), and the `x-bce-date` it used."""
    parts = urlsplit(url)
    timestamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    prefix = f"bce-auth-v1/{access_key}/{timestamp}/{SIGNATURE_VALID_S}"
    signing_key = hmac.new(secret_key.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    query = "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(params.items()))
    canonical = "\n".join(
        [
            method.upper(),
            _uri_encode(parts.path or "/", safe="/"),
            query,
            f"host:{_uri_encode(parts.netloc)}",
        ]
    )
    signature = hmac.new(signing_key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}/host/{signature}", timestamp


class BaiduAdapter(OpenAICompatibleAdapter):
    platform_id = "baidu"
    supports_refresh = True

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        if credentials.get("access_key") or credentials.get("secret_key"):
            access_key = required(credentials, "access_key", self.name)
            secret_key = required(credentials, "secret_key", self.name)
            return BoundCredential(
                AccountSecrets(extra={"access_key": access_key, "secret_key": secret_key}),
                settings={"auth_mode": "aksk"},
                hint=mask(access_key),
            )
        bound = super().parse_key_credentials(credentials)
        if not (bound.secrets.access_token or "").startswith("bce-v3/"):
            raise BadRequest(
                'A Qianfan API key starts with "bce-v3/"; or give {"access_key", "secret_key"}.'
            )
        return bound

    async def validate(self, bound: BoundCredential) -> BoundCredential:
        if bound.settings.get("auth_mode") == "aksk":
            bound = await self._exchange(bound)
        return await super().validate(bound)

    async def refresh_token(
        self, secrets: AccountSecrets, settings: dict[str, Any]
    ) -> BoundCredential:
        if settings.get("auth_mode") != "aksk":
            return await super().refresh_token(secrets, settings)
        return await self._exchange(BoundCredential(secrets, settings=settings), refreshing=True)

    async def _exchange(
        self, bound: BoundCredential, *, refreshing: bool = False
    ) -> BoundCredential:
        url = self.oauth["iam_token_endpoint"]
        params = {"expireInSeconds": str(TOKEN_LIFETIME_S)}
        authorization, timestamp = bce_authorization(
            bound.secrets.extra["access_key"],
            bound.secrets.extra["secret_key"],
            "GET",
            url,
            params,
            utcnow(),
        )
        response = await self.request(
            "GET",
            url,
            what="exchange the AK/SK for a token",
            params=params,
            headers={"Authorization": authorization, "x-bce-date": timestamp},
        )
        if response.status_code >= 400:
            if refreshing:
                raise RefreshRejected(
                    f"{self.name} refused the AK/SK pair (HTTP {response.status_code})."
                )
            raise self.rejected(response, "the AK/SK pair")
        body = response.json()
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise self.rejected(response, "the AK/SK pair")
        expires_at = _parse_time(body.get("expireTime")) or utcnow() + timedelta(
            seconds=TOKEN_LIFETIME_S
        )
        renewed = with_secrets(bound, access_token=token)
        renewed.expires_at = expires_at
        return renewed


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
