"""Google Gemini API: an AI Studio key (`x-goog-api-key`), or the operator's OAuth client.

OAuth-bound accounts call with `Authorization: Bearer` plus `x-goog-user-project`; the tokens
last about an hour and are renewed with the refresh token.
"""

from __future__ import annotations

from typing import Any

from app.services.oauth.adapters.base import (
    BasePlatformAdapter,
    BoundCredential,
    CallTarget,
    CredentialRejected,
)
from app.services.oauth.credential_store import AccountSecrets


class GeminiAdapter(BasePlatformAdapter):
    platform_id = "gemini"

    def _auth_headers(self, secrets: AccountSecrets, settings: dict[str, Any]) -> dict[str, str]:
        token = secrets.access_token or ""
        if settings.get("oauth"):
            headers = {"Authorization": f"Bearer {token}"}
            if settings.get("project"):
                headers["x-goog-user-project"] = settings["project"]
            return headers
        return {"x-goog-api-key": token}

    async def validate(self, bound: BoundCredential) -> BoundCredential:
        response = await self.request(
            "GET",
            self.api_base(bound.settings) + "/models",
            what="check the credential",
            headers=self._auth_headers(bound.secrets, bound.settings),
            params={"pageSize": 1},
        )
        if response.status_code >= 400:
            raise self.rejected(response)
        return bound

    def call_target(
        self, secrets: AccountSecrets, settings: dict[str, Any], model: str
    ) -> CallTarget:
        if not secrets.access_token:
            raise CredentialRejected("The Gemini account has no usable credential.")
        # litellm refuses to call Gemini without a key; for OAuth accounts the Bearer header it
        # is given through extra_headers is what authenticates.
        extra = self._auth_headers(secrets, settings) if settings.get("oauth") else {}
        return CallTarget(
            model=self.litellm_model(model),
            api_base=self.api_base(settings),
            api_key=secrets.access_token,
            extra_headers=extra,
        )
