"""Baidu Qianfan's codes: v1's numbers; v2's code strings are [unverified]."""

from app.services.oauth.adapters.errors.kinds import AUTH, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        "17": QUOTA,
        "19": QUOTA,
        "18": RATE,
        "110": AUTH,
        "111": AUTH,
        "invalid_iam_token": AUTH,
    },
)
