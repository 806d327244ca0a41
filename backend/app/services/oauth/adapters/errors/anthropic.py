"""Anthropic's error types (its bodies carry a type, no code); generic ones such as
`invalid_request_error` say nothing and are left to the status."""

from app.services.oauth.adapters.errors.kinds import AUTH, BUSY, NET, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    types={
        "overloaded_error": BUSY,
        "billing_error": QUOTA,
        "rate_limit_error": RATE,
        "authentication_error": AUTH,
        "api_error": NET,
        "timeout_error": NET,
    },
)
