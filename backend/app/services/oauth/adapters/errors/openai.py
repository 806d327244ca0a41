"""OpenAI's error codes (and the `insufficient_quota` type some OpenAI-format platforms send)."""

from app.services.oauth.adapters.errors.kinds import AUTH, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        "insufficient_quota": QUOTA,
        "credit_balance_exhausted": QUOTA,
        "organization_spend_limit_exceeded": QUOTA,
        "project_spend_limit_exceeded": QUOTA,
        "billing_hard_limit_reached": QUOTA,
        "invalid_api_key": AUTH,
        "rate_limit_exceeded": RATE,
    },
    types={"insufficient_quota": QUOTA},
)
