"""The platform adapter contract: everything platform-specific that cannot be data.

An adapter turns what a user supplies into a stored credential, proves it works, renews it, and
tells the call path how to reach the platform with it. Adapters are built per use from the
platform's config row (`platform_configs`), so URLs, models and recipes stay data.

What each method must do and may raise:

    parse_key_credentials(credentials) -> BoundCredential
        Read a pasted key (or key pair) in the platform's own shape. Raises BadRequest naming the
        fields expected. Makes no network call.
    validate(bound) -> BoundCredential
        One cheap authenticated request that proves the credential works (exchanging it first
        when the platform wants a derived token). Raises CredentialRejected (the platform said
        no: a 4xx for the user), CredentialLimited (the platform knows the credential but its
        quota or balance is spent, or it is rate-limited: bound all the same, shown exhausted or
        cooling) or PlatformUnreachable (network or 5xx: try again later).
    refresh_token(secrets, settings) -> BoundCredential
        Renew a credential that expires. Raises RefreshRejected when the platform refuses for good
        (OAuth `invalid_grant`, a revoked key): the account is then marked expired.
    call_target(secrets, settings, model) -> CallTarget
        The litellm model string, `api_base`, credential and headers for one call.
    classify_error(error) -> Classified
        Sort a failed call into the classes of platforms.md §2 (auth_expired, quota_exhausted,
        rate_limited, overloaded, network, bad_request) with its retry or reset hints. The
        default reads every vendor's codes (`adapters/errors/`, one module per vendor) plus the
        platform's `litellm_config.error_codes`; override only for what a table cannot say.

A browser login is no method here: it is data, the login recipe in the platform's `oauth_config`
(`browser/recipe.py`), run by `browser_automation` in a guarded Chromium for every platform alike.

The capability flag `supports_refresh` lets callers skip what an adapter cannot do instead of
catching NotImplementedError. There is no quota query: no platform here tells a console key's
balance or quota by API (platforms.md §1), so the service's ledger is the source of every quota
figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

import httpx

from app.core.errors import AppError, BadRequest
from app.core.logging import redact
from app.models import PlatformConfig
from app.services.oauth.adapters.errors import Classified, UpstreamError, classify
from app.services.oauth.adapters.errors.upstream import error_object, from_parts
from app.services.oauth.credential_store import AccountSecrets, mask


class CredentialRejected(AppError):
    """The platform refused the credential: the user must supply another."""

    status_code = 400
    code = "credential_rejected"


class PlatformUnreachable(AppError):
    """The platform could not be asked (network error, 5xx): nothing is wrong with the input."""

    status_code = 502
    code = "platform_unreachable"


class CredentialLimited(Exception):
    """The platform knows the credential but will not serve it now: its balance or quota is
    spent, or it is rate-limited. A valid credential: it is bound, shown exhausted or cooling."""

    def __init__(self, failure: Classified) -> None:
        super().__init__(failure.message)
        self.failure = failure


class RefreshRejected(Exception):
    """The platform refuses to renew the credential; a new binding is needed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BoundCredential:
    """A credential ready to store: its secrets, non-secret settings, expiry and masked hint."""

    secrets: AccountSecrets
    settings: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None
    hint: str | None = None


@dataclass(frozen=True)
class CallTarget:
    """How litellm reaches the platform for one call. `api_key` is never empty."""

    model: str
    api_base: str
    api_key: str
    extra_headers: dict[str, str] = field(default_factory=dict)


class BasePlatformAdapter:
    platform_id: ClassVar[str] = ""
    supports_refresh: ClassVar[bool] = False

    def __init__(self, config: PlatformConfig, http: httpx.AsyncClient) -> None:
        self.config = config
        self.http = http

    # --- data from the platform config ---

    @property
    def name(self) -> str:
        return self.config.platform_name

    @property
    def litellm(self) -> dict[str, Any]:
        return self.config.litellm_config

    @property
    def oauth(self) -> dict[str, Any]:
        return self.config.oauth_config

    def api_base(self, settings: dict[str, Any]) -> str:
        return str(settings.get("api_base") or self.litellm["api_base"]).rstrip("/")

    # --- the contract ---

    def parse_key_credentials(self, credentials: dict[str, str]) -> BoundCredential:
        key = required(credentials, "api_key", self.name)
        return BoundCredential(AccountSecrets(access_token=key), hint=mask(key))

    async def validate(self, bound: BoundCredential) -> BoundCredential:
        raise NotImplementedError

    async def checked(self, bound: BoundCredential) -> tuple[BoundCredential, Classified | None]:
        """`validate`, where a credential the platform knows but will not serve now (spent,
        rate-limited) passes too, with the platform's reason."""
        try:
            return await self.validate(bound), None
        except CredentialLimited as exc:
            return bound, exc.failure

    async def refresh_token(
        self, secrets: AccountSecrets, settings: dict[str, Any]
    ) -> BoundCredential:
        raise RefreshRejected(f"{self.name} credentials of this kind cannot be renewed.")

    def call_target(
        self, secrets: AccountSecrets, settings: dict[str, Any], model: str
    ) -> CallTarget:
        raise NotImplementedError

    def classify_error(self, error: UpstreamError) -> Classified:
        overrides = self.litellm.get("error_codes")
        return classify(error, overrides if isinstance(overrides, dict) else None)

    # --- shared helpers for subclasses ---

    def litellm_model(self, model: str) -> str:
        return f"{self.litellm['provider']}/{model}"

    async def request(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
        """An outbound request whose failures become the errors of this contract."""
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise PlatformUnreachable(
                f"{self.name} could not be reached to {what}; try again in a minute."
            ) from exc
        if response.status_code >= 500:
            raise PlatformUnreachable(
                f"{self.name} answered HTTP {response.status_code} when asked to {what}; "
                "try again later."
            )
        return response

    def rejected(
        self, response: httpx.Response, what: str = "the credential"
    ) -> CredentialRejected | CredentialLimited:
        """Why the platform answered a credential check with an error: refused, or (its own
        error code says so) known but out of quota or rate-limited for now."""
        failure = self.classify_error(upstream_error_of(response))
        if failure.kind in ("quota_exhausted", "rate_limited"):
            return CredentialLimited(failure)
        return CredentialRejected(
            f"{self.name} refused {what} (HTTP {response.status_code}: {vendor_message(response)})."
        )


def with_secrets(bound: BoundCredential, **changes: Any) -> BoundCredential:
    return replace(bound, secrets=replace(bound.secrets, **changes))


def required(credentials: dict[str, str], field_name: str, platform: str) -> str:
    value = (credentials.get(field_name) or "").strip()
    if not value:
        raise BadRequest(f'{platform} needs credentials {{"{field_name}": "..."}}.')
    return value


def upstream_error_of(response: httpx.Response) -> UpstreamError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = error_object(body) if isinstance(body, dict) else None
    return from_parts(
        response.status_code, error, lambda: vendor_message(response), response.headers
    )


def vendor_message(response: httpx.Response) -> str:
    """The human part of a vendor's error body, whatever its shape, kept short."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "no details"
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("code")
        elif isinstance(error, str):
            message = body.get("error_description") or error
        message = message or body.get("message") or body.get("error_msg")
    # Some vendors quote (part of) the rejected key back: never pass that on.
    text = redact(str(message or "no details"))
    return text if len(text) <= 200 else text[:197] + "..."
