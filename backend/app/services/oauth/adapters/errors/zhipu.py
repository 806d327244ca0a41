"""Zhipu's numeric business codes (sent with HTTP 400, 401 or 429, or inside an HTTP 200)."""

from app.services.oauth.adapters.errors.kinds import AUTH, BAD, BUSY, QUOTA, RATE, VendorErrors

ERRORS = VendorErrors(
    codes={
        **dict.fromkeys(("1000", "1001", "1002", "1003", "1004", "1005"), AUTH),
        **dict.fromkeys(("1113", "1304", "1308", "1309", "1310"), QUOTA),
        "1302": RATE,
        "1303": RATE,
        "1305": BUSY,
        **dict.fromkeys(("1210", "1211", "1214", "1261", "1301"), BAD),
    },
)
