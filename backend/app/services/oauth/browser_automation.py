"""Browser-automated login (the seed's module): Playwright logs in to a platform console, the user
does their part (password, SMS or e-mail code, any CAPTCHA), and the credential is captured.

The engine lives in `app.services.oauth.browser`: `pool` (one Chromium, a fresh locked-down
context per login), `queue` (the cap on logins at once), `guard` and `egress` (the allowed
domains, enforced by routing and a per-login proxy), `recipe` (logins as data from
`oauth_config`), `runner` (a login), `signals` and `capture` (reading the page),
`refresh` (capture again from a saved session), `live_view` (the page streamed to the user,
their input relayed back). This module is its public API.
"""

from app.services.oauth.browser.errors import (
    BrowserUnavailable,
    FailureReason,
    LoginFailed,
    LoginNotWaiting,
    MissingLoginInput,
)
from app.services.oauth.browser.guard import BlockedRequest, host_allowed
from app.services.oauth.browser.live_view import FrameSink, LiveFrame, LiveInput, LiveView
from app.services.oauth.browser.pool import LAUNCH_ARGS, BrowserPool, resolve_chromium_executable
from app.services.oauth.browser.recipe import LoginRecipe
from app.services.oauth.browser.refresh import recapture
from app.services.oauth.browser.results import (
    ActionReason,
    Captured,
    LoginResult,
    LoginState,
    LoginStatus,
    NeedsNewLogin,
)
from app.services.oauth.browser.runner import LoginHandle, StatusCallback, run_login, start_login

__all__ = [
    "LAUNCH_ARGS",
    "ActionReason",
    "BlockedRequest",
    "BrowserPool",
    "BrowserUnavailable",
    "Captured",
    "FailureReason",
    "FrameSink",
    "LiveFrame",
    "LiveInput",
    "LiveView",
    "LoginFailed",
    "LoginHandle",
    "LoginNotWaiting",
    "LoginRecipe",
    "LoginResult",
    "LoginState",
    "LoginStatus",
    "MissingLoginInput",
    "NeedsNewLogin",
    "StatusCallback",
    "host_allowed",
    "recapture",
    "resolve_chromium_executable",
    "run_login",
    "start_login",
]
