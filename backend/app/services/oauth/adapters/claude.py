"""Claude on Anthropic's Messages API: `x-api-key` and a fixed API version header."""

from __future__ import annotations

from typing import Any

from app.services.oauth.adapters.base import BasePlatformAdapter, BoundCredential, CallTarget
from app.services.oauth.credential_store import AccountSecrets

ANTHROPIC_VERSION = "2023-06-01"


class ClaudeAdapter(BasePlatformAdapter):
    platform_id = "claude"

    async def validate(self, bound: BoundCredential) -> BoundCredential:
        response = await self.request(
            "GET",
            self.api_base(bound.settings) + "/v1/models",
            what="check the key",
            headers={
                "x-api-key": bound.secrets.access_token or "",
                "anthropic-version": ANTHROPIC_VERSION,
            },
            params={"limit": 1},
        )
        if response.status_code >= 400:
            raise self.rejected(response, "the key")
        return bound

    def call_target(
        self, secrets: AccountSecrets, settings: dict[str, Any], model: str
    ) -> CallTarget:
        return CallTarget(
            model=self.litellm_model(model),
            api_base=self.api_base(settings),
            api_key=secrets.access_token or "",
        )
