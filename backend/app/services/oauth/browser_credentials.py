"""From a platform's config to a login recipe, and from a finished login to a credential."""

from __future__ import annotations

from pydantic import ValidationError

from app.core.errors import BadRequest
from app.models import PlatformConfig
from app.services.oauth.adapters.base import BoundCredential
from app.services.oauth.browser_automation import LoginRecipe, LoginResult
from app.services.oauth.credential_store import AccountSecrets, mask


def recipe_for(platform: PlatformConfig) -> LoginRecipe:
    try:
        return LoginRecipe.from_oauth_config(platform.oauth_config)
    except ValidationError as exc:
        raise BadRequest(
            f"{platform.platform_name} has no usable browser login recipe in its config."
        ) from exc


def bound_from(result: LoginResult) -> BoundCredential:
    """What a login captured, as a credential to store (the storage state for `refresh`)."""
    captured = result.captured
    token = captured.api_key or captured.access_token
    return BoundCredential(
        AccountSecrets(
            access_token=token,
            cookies=list(captured.cookies) or None,
            extra={
                "storage_state": result.storage_state,
                "user_agent": result.user_agent,
                "local_storage": captured.local_storage,
            },
        ),
        settings={"browser": True},
        hint=mask(token) if token else "session cookies",
    )
