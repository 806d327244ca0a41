"""OAuth 2.0 as a client, configured purely by a platform's `oauth_config` (RFC 8414 names).

Authorization code with PKCE (RFC 7636, S256), the device authorization grant (RFC 8628) and
refresh, through Authlib. Nothing here knows any particular provider: a standards-compliant
server works by configuration alone.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

from app.core.database import utcnow
from app.core.errors import UnsupportedMethod
from app.core.outbound import OutboundGuard
from app.services.oauth.adapters.base import PlatformUnreachable

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def missing_settings(oauth_config: dict[str, Any], method: str) -> list[str]:
    """What a platform's `oauth_config` lacks for `method` ("oauth", "device" or "refresh"):
    each needs the operator's client and the token endpoint, the first two their own endpoint."""
    needed = ["client_id", "token_endpoint"]
    if method == "oauth":
        needed.append("authorization_endpoint")
    elif method == "device":
        needed.append("device_authorization_endpoint")
    return [key for key in needed if not oauth_config.get(key)]


@dataclass(frozen=True)
class OAuthClientConfig:
    client_id: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = ()
    use_pkce: bool = True
    authorize_params: tuple[tuple[str, str], ...] = ()
    """Extra authorization parameters, e.g. Google's access_type=offline."""
    timeout_s: float = 30.0
    outbound: OutboundGuard | None = None
    """Checks the address of every request to the authorization server."""

    @classmethod
    def for_method(
        cls,
        platform_name: str,
        oauth_config: dict[str, Any],
        method: str,
        *,
        timeout_s: float,
        outbound: OutboundGuard | None = None,
    ) -> OAuthClientConfig:
        """The client config for `method` ("oauth", "device" or "refresh"), or why it cannot
        be used."""
        missing = missing_settings(oauth_config, method)
        if missing:
            raise UnsupportedMethod(
                f"{platform_name} is not configured for {method} authorization "
                f"(missing {', '.join(missing)} in its oauth_config)."
            )
        return cls(
            client_id=oauth_config["client_id"],
            client_secret=oauth_config.get("client_secret") or None,
            token_endpoint=oauth_config["token_endpoint"],
            authorization_endpoint=oauth_config.get("authorization_endpoint"),
            device_authorization_endpoint=oauth_config.get("device_authorization_endpoint"),
            scopes=tuple(oauth_config.get("scopes") or ()),
            use_pkce=bool(oauth_config.get("use_pkce", True)),
            authorize_params=tuple((oauth_config.get("authorize_params") or {}).items()),
            timeout_s=timeout_s,
            outbound=outbound,
        )


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class DeviceGrant:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


class ProviderError(Exception):
    """The authorization server answered with an OAuth error (`invalid_grant`, `access_denied`…)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def _client(config: OAuthClientConfig, redirect_uri: str | None = None) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=" ".join(config.scopes) or None,
        redirect_uri=redirect_uri,
        token_endpoint=config.token_endpoint,
        code_challenge_method="S256" if config.use_pkce else None,
        timeout=config.timeout_s,
        event_hooks=config.outbound.httpx_hooks() if config.outbound else None,
    )


def _token_set(token: dict[str, Any]) -> TokenSet:
    access = token.get("access_token")
    if not isinstance(access, str) or not access:
        raise ProviderError("invalid_response", "the token response has no access_token")
    expires_at = None
    if token.get("expires_in") is not None:
        expires_at = utcnow() + timedelta(seconds=int(token["expires_in"]))
    return TokenSet(access, token.get("refresh_token"), expires_at)


async def _call(what: str, coro: Any) -> Any:
    """Await one request of Authlib's client, its failures turned into ours. Authlib 1.9 is
    built on httpx2, so its network errors and its 5xx (`raise_for_status`) are httpx2's."""
    try:
        return await coro
    except OAuthError as exc:
        raise ProviderError(exc.error or "oauth_error", exc.description) from exc
    except httpx2.HTTPStatusError as exc:
        raise PlatformUnreachable(
            f"The authorization server failed to {what} (HTTP {exc.response.status_code})."
        ) from exc
    except httpx2.HTTPError as exc:
        raise PlatformUnreachable(
            f"The authorization server could not be reached to {what}; try again in a minute."
        ) from exc
    except ValueError as exc:  # a 2xx or 4xx whose body is not a JSON object
        raise ProviderError("invalid_response", "the answer is not a JSON object") from exc


def authorization_url(
    config: OAuthClientConfig, redirect_uri: str, state: str
) -> tuple[str, str | None]:
    """The URL to send the user to, and the PKCE verifier to keep server-side."""
    verifier = secrets.token_urlsafe(64) if config.use_pkce else None
    client = _client(config, redirect_uri)
    assert config.authorization_endpoint is not None
    url, _ = client.create_authorization_url(
        config.authorization_endpoint,
        state=state,
        code_verifier=verifier,
        **dict(config.authorize_params),
    )
    return url, verifier


async def exchange_code(
    config: OAuthClientConfig, redirect_uri: str, code: str, verifier: str | None
) -> TokenSet:
    async with _client(config, redirect_uri) as client:
        token = await _call(
            "exchange the code",
            client.fetch_token(code=code, code_verifier=verifier, grant_type="authorization_code"),
        )
    return _token_set(token)


async def start_device_authorization(config: OAuthClientConfig) -> DeviceGrant:
    assert config.device_authorization_endpoint is not None
    async with _client(config) as client:
        data = {"client_id": config.client_id}
        if config.scopes:
            data["scope"] = " ".join(config.scopes)
        auth = (
            client.client_auth(client.token_endpoint_auth_method) if config.client_secret else None
        )
        response = await _call(
            "start the device authorization",
            client.request(
                "POST",
                config.device_authorization_endpoint,
                data=data,
                auth=auth,
                withhold_token=True,
            ),
        )
    if response.status_code >= 500:
        raise PlatformUnreachable(
            "The authorization server failed to start the device authorization "
            f"(HTTP {response.status_code}); try again in a minute."
        )
    body = _json_object(response)
    if response.status_code >= 400:
        raise ProviderError(
            body.get("error", f"http_{response.status_code}"), body.get("error_description")
        )
    try:
        return _device_grant(body)
    except (KeyError, TypeError, ValueError) as exc:  # an answer that is no device code
        raise PlatformUnreachable(
            "The authorization server's answer to the device authorization is not a device code "
            "(RFC 8628); try again later or ask your administrator to check the platform."
        ) from exc


def _json_object(response: Any) -> dict[str, Any]:
    """The answer's JSON object, or {} when it is none (not JSON, malformed, another type)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return {}
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _device_grant(body: dict[str, Any]) -> DeviceGrant:
    if not body.get("device_code") or not body.get("user_code"):
        raise KeyError("device_code")
    return DeviceGrant(
        device_code=str(body["device_code"]),
        user_code=str(body["user_code"]),
        verification_uri=body.get("verification_uri") or body.get("verification_url", ""),
        verification_uri_complete=body.get("verification_uri_complete"),
        expires_in=int(body.get("expires_in", 600)),
        interval=int(body.get("interval", 5)),
    )


async def poll_device_token(config: OAuthClientConfig, device_code: str) -> TokenSet:
    """One poll; raises ProviderError('authorization_pending' | 'slow_down' | …) until granted."""
    async with _client(config) as client:
        token = await _call(
            "poll for the device authorization",
            client.fetch_token(grant_type=DEVICE_CODE_GRANT, device_code=device_code),
        )
    return _token_set(token)


async def refresh(config: OAuthClientConfig, refresh_token: str) -> TokenSet:
    async with _client(config) as client:
        token = await _call("renew the token", client.refresh_token(refresh_token=refresh_token))
    renewed = _token_set(token)
    # Servers without rotation answer no refresh_token: the old one stays valid.
    if renewed.refresh_token is None:
        renewed = TokenSet(renewed.access_token, refresh_token, renewed.expires_at)
    return renewed
