"""Zhipu GLM: an `id.secret` key sent as is, or (auth_mode "jwt") as a short-lived HS256 JWT with
millisecond timestamps, re-minted before it expires."""

from __future__ import annotations

import time
import warnings
from datetime import UTC, datetime
from typing import Any

import jwt

from app.core.errors import BadRequest
from app.services.oauth.adapters.base import BoundCredential, with_secrets
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter
from app.services.oauth.credential_store import AccountSecrets

JWT_LIFETIME_S = 3600


def mint_jwt(
    api_key: str, *, now_s: float | None = None, lifetime_s: int = JWT_LIFETIME_S
) -> tuple[str, datetime]:
    key_id, _, secret = api_key.partition(".")
    now_ms = int((now_s if now_s is not None else time.time()) * 1000)
    expires_ms = now_ms + lifetime_s * 1000
    with warnings.catch_warnings():
        # Zhipu's secrets are shorter than PyJWT recommends for HS256: the vendor's choice.
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        token = jwt.encode(
            {"api_key": key_id, "exp": expires_ms, "timestamp": now_ms},
            secret,
            algorithm="HS256",
            headers={"sign_type": "SIGN"},
        )
    return token, datetime.fromtimestamp(expires_ms / 1000, UTC)


class ZhipuAdapter(OpenAICompatibleAdapter):
    platform_id = "zhipu"
    supports_refresh = True

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        bound = super().parse_key_credentials(credentials)
        key = bound.secrets.access_token or ""
        key_id, dot, secret = key.partition(".")
        if not (key_id and dot and secret):
            raise BadRequest('A Zhipu API key looks like "<id>.<secret>".')
        mode = (credentials.get("auth_mode") or "raw").strip()
        if mode not in ("raw", "jwt"):
            raise BadRequest(
                'Zhipu auth_mode is "raw" (send the key) or "jwt" (send minted tokens).'
            )
        if mode == "jwt":
            token, expires_at = mint_jwt(key)
            bound = with_secrets(bound, access_token=token, extra={"api_key": key})
            bound.settings["auth_mode"] = "jwt"
            bound.expires_at = expires_at
        return bound

    async def refresh_token(
        self, secrets: AccountSecrets, settings: dict[str, Any]
    ) -> BoundCredential:
        if settings.get("auth_mode") != "jwt":
            return await super().refresh_token(secrets, settings)
        token, expires_at = mint_jwt(secrets.extra["api_key"])
        renewed = BoundCredential(secrets, settings=settings)
        renewed = with_secrets(renewed, access_token=token)
        renewed.expires_at = expires_at
        return renewed
