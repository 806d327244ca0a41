"""Answers of /api/v1/oauth/usage."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class UsageRowOut(BaseModel):
    """One account's use of one model on one quota day."""

    day: date
    account_id: int
    account_name: str | None
    platform_id: str
    platform_name: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cached_tokens: int = 0
    """Of the prompt tokens, those the platform read from its prompt cache."""
    reasoning_tokens: int = 0
    """Of the completion tokens, those the model spent thinking."""
    requests: int
    """Answered calls."""
    failures: int
    """Failed attempts (they charge no tokens)."""
