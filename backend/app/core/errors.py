"""The service's error tree. One handler (app/api/errors.py) renders it at the edge.

    AppError                      any expected failure; carries an HTTP status and a message
    ├── BadRequest                400  the request is understood but wrong
    │   └── UnsupportedMethod     400  an authorization method the platform does not offer
    ├── Unauthorized              401  no or invalid credentials for this service
    ├── Forbidden                 403
    ├── NotFound                  404  missing, or owned by someone else (indistinguishable)
    ├── Conflict                  409
    ├── PayloadTooLarge           413
    ├── TooManyRequests           429  may carry Retry-After
    │   └── QuotaExhausted        429  every account of a platform is out of quota or resting
    ├── UpstreamRejected          4xx  the platform refused the request itself (the caller's fault)
    └── ServiceUnavailable        503
        └── PlatformUnavailable   503  the platform is failing on every account tried

Messages are written for the person reading them and never contain a secret. `code` is the
stable, machine-readable name of the failure (the envelope's `error_code`): a subclass's default,
or a finer one given where the error is raised (`no_account`, `invalid_token`, …).
"""

from __future__ import annotations


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.headers = headers or {}


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class UnsupportedMethod(BadRequest):
    code = "unsupported_method"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"

    def __init__(
        self,
        message: str = "Authentication required: send Authorization: Bearer <token>.",
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after_s: int | None = None, code: str | None = None
    ) -> None:
        headers = {"Retry-After": str(max(1, retry_after_s))} if retry_after_s is not None else None
        super().__init__(message, code=code, headers=headers)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


class QuotaExhausted(TooManyRequests):
    code = "quota_exhausted"


class UpstreamRejected(AppError):
    """The platform refused the request as such (bad parameter, unknown model, too long): the
    caller gets the platform's status (400, 404, 413 or 422) and message."""

    status_code = 400
    code = "upstream_bad_request"

    def __init__(self, message: str, *, status_code: int = 400, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.status_code = status_code


class PlatformUnavailable(ServiceUnavailable):
    code = "platform_unavailable"


_BY_STATUS = {
    error.status_code: error.code
    for error in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        TooManyRequests,
        ServiceUnavailable,
    )
}


def code_for_status(status: int) -> str:
    """The code of a failure known only by its HTTP status (one the framework raised)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return AppError.code if status >= 500 else BadRequest.code
