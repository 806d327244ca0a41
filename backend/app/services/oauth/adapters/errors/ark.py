"""Doubao's Volcengine Ark codes (`RateLimitExceeded.*` is a family; `QuotaExceeded` is one
model's quota)."""

from app.services.oauth.adapters.errors.kinds import AUTH, BUSY, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        "AccountOverdueError": QUOTA,
        "QuotaExceeded": QUOTA,
        "AuthenticationError": AUTH,
        "ServerOverloaded": BUSY,
    },
    prefixes=(("RateLimitExceeded.", RATE),),
    model_scoped=frozenset({"QuotaExceeded"}),
)
