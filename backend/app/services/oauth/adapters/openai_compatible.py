"""Any platform that speaks OpenAI's chat API with a Bearer key: the config-driven default.

A platform that exists only in the platform config file is served by this adapter, so adding
an OpenAI-compatible platform needs no code. How a key is proven is data too:
`litellm_config.validate` = {"method": "GET", "path": "/models"} (the default) or a POST with a
JSON body (a one-token chat on a free model, for platforms without a model list).
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

DEFAULT_VALIDATION = {"method": "GET", "path": "/models"}


class OpenAICompatibleAdapter(BasePlatformAdapter):
    def auth_headers(self, token: str, settings: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def bearer_token(self, secrets: AccountSecrets) -> str:
        if not secrets.access_token:
            raise CredentialRejected(f"The {self.name} account has no usable credential.")
        return secrets.access_token

    async def validate(self, bound: BoundCredential) -> BoundCredential:
        spec = self.litellm.get("validate") or DEFAULT_VALIDATION
        token = self.bearer_token(bound.secrets)
        response = await self.request(
            spec.get("method", "GET"),
            self.api_base(bound.settings) + spec.get("path", "/models"),
            what="check the credential",
            headers=self.auth_headers(token, bound.settings),
            json=spec.get("json"),
        )
        if response.status_code >= 400:
            raise self.rejected(response)
        return bound

    def call_target(
        self, secrets: AccountSecrets, settings: dict[str, Any], model: str
    ) -> CallTarget:
        token = self.bearer_token(secrets)
        headers = self.auth_headers(token, settings)
        headers.pop("Authorization", None)  # litellm sends the key itself
        return CallTarget(
            model=self.litellm_model(model),
            api_base=self.api_base(settings),
            api_key=token,
            extra_headers=headers,
        )
