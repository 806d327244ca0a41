"""iFlytek Spark's codes."""

from app.services.oauth.adapters.errors.kinds import AUTH, BAD, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        "11200": QUOTA,
        "11201": QUOTA,
        "11202": RATE,
        "11203": RATE,
        "10007": RATE,
        "11500": AUTH,
        **dict.fromkeys(("10003", "10004", "10005", "10013", "10014", "10019", "10907"), BAD),
    },
)
