"""iFlytek Spark: a per-service APIPassword, or `APIKey:APISecret`, sent as a Bearer token."""

from __future__ import annotations

from app.services.oauth.adapters.base import BoundCredential, required
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter
from app.services.oauth.credential_store import AccountSecrets, mask


class SparkAdapter(OpenAICompatibleAdapter):
    platform_id = "spark"

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        if credentials.get("api_password"):
            token = required(credentials, "api_password", self.name)
        elif credentials.get("api_secret"):
            key = required(credentials, "api_key", self.name)
            token = f"{key}:{required(credentials, 'api_secret', self.name)}"
        else:
            # {"api_key": "<APIPassword>"} or {"api_key": "<APIKey>:<APISecret>"}
            token = required(credentials, "api_key", self.name)
        return BoundCredential(AccountSecrets(access_token=token), hint=mask(token))
