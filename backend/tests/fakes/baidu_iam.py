"""A fake Baidu IAM endpoint: `GET /v1/BCE-BEARER/token`, checking bce-auth-v1 signatures.

The signature is recomputed here from Baidu's published algorithm, independently of the
service's signer, so a signer that drifts from the algorithm fails the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def _encode(text: str) -> str:
    # RFC 3986 unreserved characters stay; everything else is percent-encoded.
    return quote(text, safe="-_.~")


class FakeBaiduIam:
    def __init__(self, access_key: str, secret_key: str) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.issued: list[str] = []
        self.app = Starlette(routes=[Route("/v1/BCE-BEARER/token", self._token)])

    def _expected_signature(self, request: Request, prefix: str) -> str:
        signing_key = hmac.new(
            self.secret_key.encode(), prefix.encode(), hashlib.sha256
        ).hexdigest()
        query = "&".join(
            sorted(f"{_encode(k)}={_encode(v)}" for k, v in request.query_params.multi_items())
        )
        canonical_uri = quote(request.url.path, safe="/-_.~")
        canonical = f"GET\n{canonical_uri}\n{query}\nhost:{_encode(request.headers['host'])}"
        return hmac.new(signing_key.encode(), canonical.encode(), hashlib.sha256).hexdigest()

    async def _token(self, request: Request) -> JSONResponse:
        parts = request.headers.get("authorization", "").split("/")
        # bce-auth-v1/{ak}/{timestamp}/{expiration}/{signedHeaders}/{signature}
        if len(parts) != 6 or parts[0] != "bce-auth-v1" or parts[4] != "host":
            return JSONResponse({"code": "InvalidHTTPAuthHeader", "message": "bad header"}, 400)
        if parts[1] != self.access_key:
            return JSONResponse({"code": "InvalidAccessKeyId", "message": "unknown AK"}, 403)
        prefix = "/".join(parts[:4])
        if not hmac.compare_digest(parts[5], self._expected_signature(request, prefix)):
            message = "The request signature we calculated does not match"
            return JSONResponse({"code": "SignatureDoesNotMatch", "message": message}, 403)
        lifetime = int(request.query_params.get("expireInSeconds", "86400"))
        token = f"bce-v3/ALTAK-{secrets.token_hex(8)}/{secrets.token_hex(20)}"
        self.issued.append(token)
        now = datetime.now(UTC)
        return JSONResponse(
            {
                "userId": "fake-user",
                "token": token,
                "status": "enable",
                "createTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "expireTime": (now + timedelta(seconds=lifetime)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
