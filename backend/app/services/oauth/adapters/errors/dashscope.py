"""Qwen's DashScope codes. "Free allocated quota exceeded" shares `Throttling.AllocationQuota`
with a rate limit: the words tell them apart (the shared rules in `classify`)."""

from app.services.oauth.adapters.errors.kinds import AUTH, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        "Arrearage": QUOTA,
        "InvalidApiKey": AUTH,
        "Throttling": RATE,
        "Throttling.RateQuota": RATE,
        "Throttling.AllocationQuota": RATE,
        "Throttling.BurstRate": RATE,
    },
    prefixes=(("Throttling.", RATE),),
)
