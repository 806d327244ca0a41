"""Callers of the Anthropic and Gemini APIs, by the credential each API's clients send: an API
key (`op-…`) or JWT as `Authorization: Bearer`, `x-api-key` (Anthropic's SDKs, Claude Code with
ANTHROPIC_API_KEY), `x-goog-api-key` or `?key=` (Google's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials

from app.api.deps import caller_bearer, caller_by, within_call_limit
from app.models import User

_anthropic_key = APIKeyHeader(name="x-api-key", auto_error=False, description="An API key")
_google_key = APIKeyHeader(name="x-goog-api-key", auto_error=False, description="An API key")
_google_query_key = APIKeyQuery(name="key", auto_error=False, description="An API key")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(caller_bearer)]


async def get_anthropic_caller(
    request: Request,
    bearer: Bearer,
    key: Annotated[str | None, Depends(_anthropic_key)],
) -> User:
    token = key or (bearer.credentials if bearer else None)
    caller = await caller_by(request, token, "x-api-key or Authorization: Bearer <API key>")
    return await within_call_limit(request, caller)


async def get_google_caller(
    request: Request,
    bearer: Bearer,
    key: Annotated[str | None, Depends(_google_key)],
    query_key: Annotated[str | None, Depends(_google_query_key)],
) -> User:
    token = key or query_key or (bearer.credentials if bearer else None)
    caller = await caller_by(request, token, "x-goog-api-key, ?key= or Authorization: Bearer")
    return await within_call_limit(request, caller)


AnthropicCaller = Annotated[User, Depends(get_anthropic_caller)]
GoogleCaller = Annotated[User, Depends(get_google_caller)]
