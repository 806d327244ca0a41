"""OpenAI: a Bearer key, optionally scoped to an organization and a project."""

from __future__ import annotations

import re
from typing import Any

from app.core.errors import BadRequest
from app.services.oauth.adapters.base import BoundCredential
from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class OpenAIAdapter(OpenAICompatibleAdapter):
    platform_id = "openai"

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        bound = super().parse_key_credentials(credentials)
        for field_name in ("organization", "project"):
            value = (credentials.get(field_name) or "").strip()
            if not value:
                continue
            if not _IDENTIFIER.match(value):
                raise BadRequest(f"The OpenAI {field_name} id {value!r} is not a valid id.")
            bound.settings[field_name] = value
        return bound

    def auth_headers(self, token: str, settings: dict[str, Any]) -> dict[str, str]:
        headers = super().auth_headers(token, settings)
        if settings.get("organization"):
            headers["OpenAI-Organization"] = settings["organization"]
        if settings.get("project"):
            headers["OpenAI-Project"] = settings["project"]
        return headers
