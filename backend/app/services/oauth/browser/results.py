"""What a browser login reports while it runs (`LoginStatus`) and what it ends with.

Statuses carry no secret; results do (cookies, tokens, keys) and keep them out of their repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from app.services.oauth.browser.errors import FailureReason

LoginState = Literal["queued", "running", "needs_user_action", "succeeded", "failed"]
ActionReason = Literal["code", "challenge", "unknown_page"]
"""code: the page asks for an SMS/e-mail code (give it with `provide_input`); challenge: a
CAPTCHA, slider or QR code for the user to solve in the live view; unknown_page: the page is not
what the recipe expects (the user may finish in the live view, or the login fails at the
deadline)."""


@dataclass(frozen=True)
class LoginStatus:
    state: LoginState
    step: str | None = None
    """What the browser is doing, as a code, e.g. "fill_username" (running)."""
    queue_position: int | None = None
    """1 = next to start (queued)."""
    reason: ActionReason | None = None
    prompt: str | None = None
    """What the user is asked to do (needs_user_action); for a code, the platform's words only."""
    code_kind: Literal["sms", "email", "code"] | None = None
    screenshot_png: bytes | None = field(default=None, repr=False)
    """The page when the user was asked (needs_user_action)."""
    message: str | None = None
    """Why the login failed (failed), or what happened."""
    failure_reason: FailureReason | None = None
    blocked: tuple[str, ...] = ()
    """URLs (without query) the browser refused to load: outside the allowed domains."""

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")


@dataclass(frozen=True)
class Captured:
    """What the capture recipe collected."""

    cookies: tuple[dict[str, Any], ...] = ()
    """The named cookies only (Playwright's cookie dicts)."""
    local_storage: dict[str, str] = field(default_factory=dict)
    request_header: str | None = None
    """The configured header of a matching request, e.g. `Bearer eyJ...`."""
    response_field: str | None = None
    """The configured JSON field of a matching response (non-strings as JSON text)."""
    api_key: str | None = None

    @property
    def access_token(self) -> str | None:
        """The token to call with: the response field, else the header without `Bearer `."""
        if self.response_field:
            return self.response_field
        if self.request_header:
            scheme, _, rest = self.request_header.partition(" ")
            return rest.strip() if scheme.lower() == "bearer" and rest else self.request_header
        return None

    def __repr__(self) -> str:
        return (
            f"Captured(cookies={[c.get('name') for c in self.cookies]}, "
            f"local_storage={list(self.local_storage)}, "
            f"request_header={_shown(self.request_header)}, "
            f"response_field={_shown(self.response_field)}, api_key={_shown(self.api_key)})"
        )


@dataclass(frozen=True)
class LoginResult:
    """A captured login; `storage_state` and `user_agent` are what `recapture` needs later.

    `storage_state` is plaintext (cookies + localStorage): the caller encrypts it.
    """

    captured: Captured
    storage_state: dict[str, Any] = field(repr=False)
    user_agent: str = ""


@dataclass(frozen=True)
class NeedsNewLogin:
    """The saved session no longer logs in: the user has to log in again."""

    message: str


def _shown(value: str | None) -> str:
    return "None" if value is None else "'***'"
