"""Doubao on Volcengine Ark: an Ark API key as a Bearer token; models by id or endpoint `ep-…`."""

from __future__ import annotations

from app.services.oauth.adapters.openai_compatible import OpenAICompatibleAdapter


class DoubaoAdapter(OpenAICompatibleAdapter):
    platform_id = "doubao"
