"""Qwen on Alibaba DashScope (Model Studio): a region-specific key and base URL."""

from __future__ import annotations

from app.core.errors import BadRequest
from app.services.oauth.adapters.base import BoundCredential
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter


class QwenAdapter(OpenAICompatibleAdapter):
    platform_id = "qwen"

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        bound = super().parse_key_credentials(credentials)
        region = (credentials.get("region") or "").strip()
        if region:
            # Only the regions the config names: a user must not point the service at any URL.
            regions: dict[str, str] = self.oauth.get("regions", {})
            if region not in regions:
                raise BadRequest(
                    f"Unknown DashScope region {region!r}; choose one of: {', '.join(regions)}."
                )
            bound.settings["region"] = region
            bound.settings["api_base"] = regions[region]
        return bound
