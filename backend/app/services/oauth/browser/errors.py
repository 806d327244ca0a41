"""Errors of the browser login engine, placed in the service's error tree (app/core/errors.py).

    AppError
    ├── BadRequest
    │   └── MissingLoginInput     400  the recipe needs an input the user did not give
    ├── Conflict
    │   └── LoginNotWaiting       409  input or live view for a login that cannot take it now
    ├── ServiceUnavailable
    │   └── BrowserUnavailable    503  no Chromium to run, or it would not start
    └── LoginFailed               422  the login ended without a credential (`reason` says why)

A failed login is normally reported through its status rather than raised at a request; the
messages are written for the user and never contain a password or a code.
"""

from __future__ import annotations

from typing import Literal

from app.core.errors import AppError, BadRequest, Conflict, ServiceUnavailable

FailureReason = Literal[
    "rejected", "deadline", "blocked", "capture", "session", "browser", "cancelled"
]
"""rejected: the page said no (wrong password); deadline: not done in time; blocked: the page
went outside the allowed domains; capture: logged in but the credential was not found; session:
the platform refused the captured session; browser: Chromium failed; cancelled: by the caller."""


class MissingLoginInput(BadRequest):
    code = "missing_login_input"


class LoginNotWaiting(Conflict):
    code = "login_not_waiting"


class BrowserUnavailable(ServiceUnavailable):
    code = "browser_unavailable"


class LoginFailed(AppError):
    status_code = 422
    code = "login_failed"

    def __init__(self, message: str, *, reason: FailureReason) -> None:
        super().__init__(message)
        self.reason: FailureReason = reason
