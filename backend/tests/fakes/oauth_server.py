"""A strict, in-memory OAuth 2.0 authorization server that stands in for a vendor's.

The proxy binds accounts with plain, data-configured OAuth 2.0, so tests need a real
authorization server on loopback rather than mocks: one that enforces RFC 6749 (authorization
code, refresh), RFC 7636 (PKCE, S256 only), RFC 8628 (device authorization grant),
RFC 7009 (revocation), RFC 6750 (bearer tokens) and RFC 8414 (metadata) the way a real vendor
does. Being lenient here would let a non-compliant client pass tests and fail in production,
so every rule the RFCs state as MUST is enforced, with the standard error JSON and status.

Drive it from tests as follows (`base` is `serve(server.app).url`):

* Authorization code + PKCE: send the user's browser to `{base}/authorize?...`. A real
  browser sees a consent page (`<button name="decision" value="approve">`); an httpx client
  following redirects can play the browser by adding `auto_approve=1` (or `auto_deny=1`) to the
  query, by configuring the authorization endpoint as `{base}/authorize?auto_approve=1`
  (RFC 6749 §3.1 keeps that query), or by setting `server.auto_approve = True`.
* Device flow: `POST {base}/device/code`, then either `server.approve_device(user_code)` or
  the HTML page at `verification_uri_complete`; `script_device` injects poll responses.
* Upstream fakes accept issued tokens via `server.is_access_token_valid(token)`.

Mutable attributes (TTLs, `refresh_rotation`, `auto_approve`, ...) are read per request, so a
test may change them on a running server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")

# RFC 7636 §4.1/§4.2: a verifier is 43-128 unreserved characters; an S256 challenge is the
# unpadded base64url of a SHA-256 digest, i.e. exactly 43 characters.
_VERIFIER_RE = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
# RFC 8628 §6.1: consonants only, so user codes never spell words and are easy to type.
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
# RFC 6749 §5.1: responses carrying tokens or credentials must not be cached.
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_FORM_TYPE = "application/x-www-form-urlencoded"
_REALM = "fake-oauth"


@dataclass(frozen=True)
class ClientSpec:
    """A registered client, as the vendor's developer console would hold it.

    A client without `client_secret` is public (token endpoint auth method `none`); one with a
    secret is confidential and must authenticate with one of `auth_methods`. `scopes`, when
    given, is the allow-list (and the default grant when a request names no scope).
    """

    redirect_uris: tuple[str, ...] = ()
    client_secret: str | None = None
    require_pkce: bool = True
    scopes: tuple[str, ...] | None = None
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post")


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: rendered as `{"error", "error_description"}` JSON."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.status == 401:
            # RFC 6749 §5.2: a 401 for invalid_client MUST carry WWW-Authenticate.
            headers["WWW-Authenticate"] = f'Basic realm="{_REALM}"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=self.status, headers=headers)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


@dataclass
class _Grant:
    """One user consent; every token descends from it, so revoking it revokes them all."""

    client_id: str
    subject: str
    scope: str
    revoked: bool = False


@dataclass
class _AccessToken:
    grant: _Grant
    scope: str
    expires_at: float


@dataclass
class _RefreshToken:
    grant: _Grant
    scope: str
    state: str = "active"  # "active" | "rotated" | "revoked"


@dataclass
class _Authorization:
    """A validated authorization request, awaiting the user's decision or redemption."""

    client_id: str
    redirect_uri: str
    redirect_uri_sent: bool  # RFC 6749 §4.1.3: only then must the token request repeat it
    scope: str
    state: str | None
    code_challenge: str | None
    subject: str


@dataclass
class _Code:
    request: _Authorization
    expires_at: float
    used: bool = False
    grant: _Grant | None = None  # set on redemption, so a replay can revoke what it issued


@dataclass
class _Device:
    client_id: str
    user_code: str
    scope: str
    expires_at: float
    interval: int
    status: str = "pending"  # "pending" | "approved" | "denied" | "consumed"
    subject: str = ""
    last_poll: float | None = None
    script: deque[str] = field(default_factory=deque)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _single_params(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """RFC 6749 §3.1/§3.2: parameters MUST NOT repeat, and empty ones count as omitted."""
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise OAuthError("invalid_request", f"parameter {key!r} is repeated")
        params[key] = value
    return {key: value for key, value in params.items() if value != ""}


async def _read_form(request: Request) -> dict[str, str]:
    """Parse a urlencoded body ourselves: strict about type and repeats, no multipart dep."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != _FORM_TYPE:
        raise OAuthError("invalid_request", f"body must be {_FORM_TYPE}")
    try:
        body = (await request.body()).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "body is not UTF-8") from exc
    return _single_params(parse_qsl(body, keep_blank_values=True))


def _require(params: dict[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise OAuthError("invalid_request", f"missing required parameter {name!r}")
    return value


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _normalize_user_code(user_code: str) -> str:
    """RFC 8628 §6.1: accept user codes case-insensitively and without punctuation."""
    return re.sub(r"[^A-Z0-9]", "", user_code.upper())


def _with_query(uri: str, params: dict[str, str | None]) -> str:
    """Add response parameters, keeping the redirect URI's own query (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({key: value for key, value in params.items() if value is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"</head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_NO_STORE)


def _error_page(error: str, description: str, status: int = 400) -> HTMLResponse:
    """Shown instead of redirecting when the redirect URI cannot be trusted (RFC 6749 §4.1.2.1)."""
    body = (
        f'<h1>Error: <span id="error">{html.escape(error)}</span></h1>'
        f'<p id="error_description">{html.escape(description)}</p>'
    )
    return _page(f"Error: {error}", body, status)


class FakeOAuthServer:
    """The authorization server; `app` is its ASGI app, the other public members are test hooks.

    Handlers run on the serving thread while tests call the helpers from theirs, so all state
    is guarded by one lock.
    """

    def __init__(
        self,
        *,
        clients: dict[str, ClientSpec] | None = None,
        access_token_ttl_s: int = 3600,
        refresh_rotation: bool = True,
        device_interval_s: int = 1,
        device_code_ttl_s: int = 600,
        code_ttl_s: int = 60,
        slow_down_increment_s: int = 5,
        revoke_on_refresh_reuse: bool = False,
        auto_approve: bool = False,
        default_subject: str = "user@example.test",
    ) -> None:
        """`slow_down_increment_s` is RFC 8628's 5 s; tests may set 0 to keep polling fast.

        `revoke_on_refresh_reuse` makes replaying a rotated refresh token revoke the whole
        grant, as OAuth security BCP (RFC 9700 §4.14.2) reuse detection does at some vendors.
        """
        self.clients: dict[str, ClientSpec] = dict(clients or {})
        self.access_token_ttl_s = access_token_ttl_s
        self.refresh_rotation = refresh_rotation
        self.device_interval_s = device_interval_s
        self.device_code_ttl_s = device_code_ttl_s
        self.code_ttl_s = code_ttl_s
        self.slow_down_increment_s = slow_down_increment_s
        self.revoke_on_refresh_reuse = revoke_on_refresh_reuse
        self.auto_approve = auto_approve
        self.default_subject = default_subject
        # Recorded calls, for assertions such as "exactly one refresh happened".
        self.token_requests: list[dict[str, Any]] = []
        self.authorization_requests: list[dict[str, str]] = []

        self._lock = threading.RLock()
        self._pending: dict[str, _Authorization] = {}
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._devices: dict[str, _Device] = {}
        self._user_codes: dict[str, str] = {}  # normalized user code -> device code

        self.app = Starlette(
            routes=[
                Route("/.well-known/oauth-authorization-server", self._metadata, methods=["GET"]),
                Route("/authorize", self._authorize, methods=["GET"]),
                Route("/authorize/decision", self._authorize_decision, methods=["POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/device/code", self._device_code, methods=["POST"]),
                Route("/device", self._device_page, methods=["GET", "POST"]),
                Route("/userinfo", self._userinfo, methods=["GET"]),
                Route("/revoke", self._revoke, methods=["POST"]),
            ]
        )

    # ----------------------------------------------------------------- test helpers

    def register_client(self, client_id: str, spec: ClientSpec) -> None:
        """Add or replace a client, e.g. once the proxy's callback port is known."""
        with self._lock:
            self.clients[client_id] = spec

    def metadata(self, base_url: str) -> dict[str, Any]:
        """The RFC 8414 document, so configuration can be taken from discovery."""
        base = base_url.rstrip("/")
        scopes = sorted({s for spec in self.clients.values() for s in spec.scopes or ()})
        document: dict[str, Any] = {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "device_authorization_endpoint": f"{base}/device/code",
            "revocation_endpoint": f"{base}/revoke",
            "userinfo_endpoint": f"{base}/userinfo",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_CODE_GRANT],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
            "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        }
        if scopes:
            document["scopes_supported"] = scopes
        return document

    def access_token_info(self, token: str) -> dict[str, str] | None:
        """Who a live access token speaks for (`sub`, `client_id`, `scope`), else None."""
        with self._lock:
            access = self._access.get(token)
            if access is None or access.grant.revoked or time.monotonic() >= access.expires_at:
                return None
            grant = access.grant
            return {"sub": grant.subject, "client_id": grant.client_id, "scope": access.scope}

    def is_access_token_valid(self, token: str) -> bool:
        """Lets a fake upstream API accept exactly the tokens this server issued."""
        return self.access_token_info(token) is not None

    def revoke_refresh_tokens(self, client_id: str | None = None) -> None:
        """Simulate the user revoking access: the next refresh gets invalid_grant."""
        with self._lock:
            for refresh in self._refresh.values():
                if client_id is None or refresh.grant.client_id == client_id:
                    refresh.state = "revoked"

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far invalid, as if its lifetime had run out."""
        with self._lock:
            for access in self._access.values():
                access.expires_at = float("-inf")

    def approve_device(
        self, user_code: str, approve: bool = True, *, subject: str | None = None
    ) -> None:
        """Play the user entering `user_code` on the verification page and deciding."""
        with self._lock:
            device = self._find_device(user_code)
            if device.status != "pending":
                raise ValueError(f"device authorization is already {device.status}")
            device.status = "approved" if approve else "denied"
            device.subject = subject or self.default_subject

    def script_device(self, code: str, *responses: str) -> None:
        """Queue error codes (e.g. "slow_down", "expired_token") for the next polls of `code`.

        `code` is the device code or user code. Scripted answers come before the normal
        state machine; a scripted slow_down also raises the interval, as a real one does.
        """
        with self._lock:
            self._find_device(code).script.extend(responses)

    def _find_device(self, code: str) -> _Device:
        device = self._devices.get(code)
        if device is None:
            device_code = self._user_codes.get(_normalize_user_code(code))
            if device_code is None:
                raise KeyError(f"unknown device or user code {code!r}")
            device = self._devices[device_code]
        return device

    # ----------------------------------------------------------------- shared rules

    def _check_scope(self, spec: ClientSpec, requested: str | None) -> str:
        scopes = list(dict.fromkeys(requested.split())) if requested else []
        if spec.scopes is not None:
            unknown = [scope for scope in scopes if scope not in spec.scopes]
            if unknown:
                raise OAuthError("invalid_scope", f"scope not allowed: {' '.join(unknown)}")
            scopes = scopes or list(spec.scopes)
        return " ".join(scopes)

    def _authenticate_client(
        self, request: Request, form: dict[str, str]
    ) -> tuple[str, ClientSpec, str]:
        """RFC 6749 §2.3: exactly one of Basic, body credentials, or (public) client_id only."""
        header = request.headers.get("authorization")
        secret: str | None = None
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "basic":
                raise _invalid_client("unsupported Authorization scheme at the token endpoint")
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise _invalid_client("malformed Basic credentials") from exc
            raw_id, colon, raw_secret = decoded.partition(":")
            if not colon:
                raise _invalid_client("malformed Basic credentials")
            # RFC 6749 §2.3.1: both halves are form-urlencoded before base64.
            client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
            if "client_secret" in form:
                raise OAuthError("invalid_request", "more than one client authentication method")
            if form.get("client_id", client_id) != client_id:
                raise OAuthError("invalid_request", "client_id does not match Basic credentials")
            method = "client_secret_basic"
        else:
            maybe_id = form.get("client_id")
            if maybe_id is None:
                raise _invalid_client("no client authentication included")
            client_id, secret = maybe_id, form.get("client_secret")
            method = "none" if secret is None else "client_secret_post"

        spec = self.clients.get(client_id)
        if spec is None:
            raise _invalid_client("unknown client")
        if spec.client_secret is None:
            if method != "none":
                raise _invalid_client("public client must not authenticate with a secret")
            return client_id, spec, method
        if method == "none":
            raise _invalid_client("confidential client must authenticate")
        if method not in spec.auth_methods:
            raise _invalid_client(f"{method} is not allowed for this client")
        assert secret is not None
        if not hmac.compare_digest(secret.encode(), spec.client_secret.encode()):
            raise _invalid_client("client authentication failed")
        return client_id, spec, method

    def _issue_tokens(self, grant: _Grant, scope: str, refresh_scope: str | None) -> dict[str, Any]:
        """Mint an access token, plus a refresh token unless `refresh_scope` is None."""
        access_token = "fake-at-" + secrets.token_urlsafe(24)
        ttl = self.access_token_ttl_s
        self._access[access_token] = _AccessToken(grant, scope, time.monotonic() + ttl)
        body: dict[str, Any] = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scope,
        }
        if refresh_scope is not None:
            refresh_token = "fake-rt-" + secrets.token_urlsafe(24)
            self._refresh[refresh_token] = _RefreshToken(grant, refresh_scope)
            body["refresh_token"] = refresh_token
        return body

    # ----------------------------------------------------------------- endpoints

    async def _metadata(self, request: Request) -> Response:
        return JSONResponse(self.metadata(_base_url(request)))

    async def _authorize(self, request: Request) -> Response:
        """RFC 6749 §4.1.1 with RFC 7636 §4.3; bad client/redirect URI never redirects."""
        pairs = list(request.query_params.multi_items())
        with self._lock:
            self.authorization_requests.append(dict(pairs))
        try:
            params = _single_params(pairs)
        except OAuthError as exc:
            return _error_page(exc.error, exc.description)
        client_id = params.get("client_id", "")
        spec = self.clients.get(client_id)
        if spec is None:
            return _error_page("invalid_client", "missing or unknown client_id")
        redirect_uri = params.get("redirect_uri")
        redirect_uri_sent = redirect_uri is not None
        if redirect_uri is None:
            # RFC 6749 §3.1.2.3: may be omitted only when exactly one URI is registered.
            if len(spec.redirect_uris) != 1:
                return _error_page("invalid_request", "missing redirect_uri")
            redirect_uri = spec.redirect_uris[0]
        elif redirect_uri not in spec.redirect_uris:
            return _error_page("redirect_uri_mismatch", "redirect_uri is not registered")

        state = params.get("state")

        def fail(error: str, description: str) -> Response:
            query = {"error": error, "error_description": description, "state": state}
            return RedirectResponse(_with_query(redirect_uri, query), 302, _NO_STORE)

        response_type = params.get("response_type")
        if response_type is None:
            return fail("invalid_request", "missing response_type")
        if response_type != "code":
            return fail("unsupported_response_type", "only response_type=code is supported")
        try:
            scope = self._check_scope(spec, params.get("scope"))
        except OAuthError as exc:
            return fail(exc.error, exc.description)
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is None:
            if spec.require_pkce:
                return fail("invalid_request", "code challenge required")
            if method is not None:
                return fail("invalid_request", "code_challenge_method without code_challenge")
        elif method != "S256":
            # RFC 7636 §4.3: an absent method means "plain", which we do not support.
            return fail("invalid_request", "transform algorithm not supported")
        elif not _S256_CHALLENGE_RE.fullmatch(challenge):
            return fail("invalid_request", "malformed code_challenge")

        authorization = _Authorization(
            client_id=client_id,
            redirect_uri=redirect_uri,
            redirect_uri_sent=redirect_uri_sent,
            scope=scope,
            state=state,
            code_challenge=challenge,
            subject=params.get("login_hint") or self.default_subject,
        )
        if params.get("auto_deny") in {"1", "true"}:
            return self._decide(authorization, approve=False)
        if params.get("auto_approve") in {"1", "true"} or self.auto_approve:
            return self._decide(authorization, approve=True)
        request_id = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[request_id] = authorization
        return self._consent_page(request_id, authorization)

    def _consent_page(self, request_id: str, authorization: _Authorization) -> Response:
        client = html.escape(authorization.client_id)
        body = (
            f"<h1>{client} wants to access your account</h1>"
            f'<p>Signed in as <span id="subject">{html.escape(authorization.subject)}</span></p>'
            f'<p>Scopes: <span id="scope">{html.escape(authorization.scope)}</span></p>'
            '<form method="post" action="/authorize/decision">'
            f'<input type="hidden" name="request_id" value="{html.escape(request_id)}">'
            '<button name="decision" value="approve">Approve</button>'
            '<button name="decision" value="deny">Deny</button>'
            "</form>"
        )
        return _page(f"Authorize {authorization.client_id}", body)

    def _decide(self, authorization: _Authorization, *, approve: bool) -> Response:
        """Redirect back to the (already verified) redirect URI with a code or access_denied."""
        if approve:
            code = secrets.token_urlsafe(24)
            with self._lock:
                expires_at = time.monotonic() + self.code_ttl_s
                self._codes[code] = _Code(authorization, expires_at)
            query: dict[str, str | None] = {"code": code, "state": authorization.state}
        else:
            query = {
                "error": "access_denied",
                "error_description": "the user denied the request",
                "state": authorization.state,
            }
        location = _with_query(authorization.redirect_uri, query)
        return RedirectResponse(location, 302, _NO_STORE)

    async def _authorize_decision(self, request: Request) -> Response:
        try:
            form = await _read_form(request)
        except OAuthError as exc:
            return _error_page(exc.error, exc.description)
        decision = form.get("decision")
        if decision not in {"approve", "deny"}:
            return _error_page("invalid_request", "decision must be approve or deny")
        with self._lock:
            authorization = self._pending.pop(form.get("request_id", ""), None)
        if authorization is None:
            return _error_page("invalid_request", "unknown or already decided request")
        return self._decide(authorization, approve=decision == "approve")

    async def _token(self, request: Request) -> Response:
        """RFC 6749 §3.2 token endpoint; every call is recorded in `token_requests`."""
        record: dict[str, Any] = {
            "grant_type": None,
            "client_id": None,
            "auth_method": None,
            "params": {},
            "status": 200,
            "error": None,
        }
        try:
            form = await _read_form(request)
            record["params"] = {k: v for k, v in form.items() if k != "client_secret"}
            record["grant_type"] = form.get("grant_type")
            client_id, spec, method = self._authenticate_client(request, form)
            record.update(client_id=client_id, auth_method=method)
            grant_type = _require(form, "grant_type")
            with self._lock:
                if grant_type == "authorization_code":
                    body = self._grant_authorization_code(client_id, form)
                elif grant_type == "refresh_token":
                    body = self._grant_refresh_token(client_id, spec, form)
                elif grant_type == DEVICE_CODE_GRANT:
                    body = self._grant_device_code(client_id, form)
                else:
                    raise OAuthError("unsupported_grant_type", f"{grant_type!r} is not supported")
        except OAuthError as exc:
            record.update(status=exc.status, error=exc.error)
            response: Response = exc.response()
        else:
            response = JSONResponse(body, headers=_NO_STORE)
        with self._lock:
            self.token_requests.append(record)
        return response

    def _grant_authorization_code(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        """RFC 6749 §4.1.3 and RFC 7636 §4.6; any presentation by its client spends the code."""
        code = self._codes.get(_require(form, "code"))
        if code is None or code.request.client_id != client_id:
            raise OAuthError("invalid_grant", "unknown authorization code")
        if code.used:
            # RFC 6749 §4.1.2: deny, and revoke tokens already issued from this code.
            if code.grant is not None:
                code.grant.revoked = True
            raise OAuthError("invalid_grant", "authorization code was already used")
        code.used = True
        if time.monotonic() >= code.expires_at:
            raise OAuthError("invalid_grant", "authorization code expired")
        authorization = code.request
        redirect_uri = form.get("redirect_uri")
        if redirect_uri is None and authorization.redirect_uri_sent:
            raise OAuthError("invalid_request", "missing redirect_uri")
        if redirect_uri is not None and redirect_uri != authorization.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization")
        verifier = form.get("code_verifier")
        if authorization.code_challenge is None:
            if verifier is not None:
                # OAuth 2.1 §4.1.3: a verifier without a challenge signals a PKCE downgrade.
                raise OAuthError("invalid_grant", "code_verifier sent but no code_challenge")
        elif verifier is None:
            raise OAuthError("invalid_request", "missing code_verifier")
        elif not _VERIFIER_RE.fullmatch(verifier):
            raise OAuthError("invalid_request", "malformed code_verifier")
        elif not hmac.compare_digest(_s256(verifier), authorization.code_challenge):
            raise OAuthError("invalid_grant", "PKCE verification failed")
        grant = _Grant(client_id, authorization.subject, authorization.scope)
        code.grant = grant
        return self._issue_tokens(grant, authorization.scope, authorization.scope)

    def _grant_refresh_token(
        self, client_id: str, spec: ClientSpec, form: dict[str, str]
    ) -> dict[str, Any]:
        """RFC 6749 §6; with rotation the presented token dies and a new one is returned."""
        refresh = self._refresh.get(_require(form, "refresh_token"))
        if refresh is None or refresh.grant.client_id != client_id:
            raise OAuthError("invalid_grant", "unknown refresh token")
        if refresh.grant.revoked or refresh.state == "revoked":
            raise OAuthError("invalid_grant", "refresh token was revoked")
        if refresh.state == "rotated":
            if self.revoke_on_refresh_reuse:
                refresh.grant.revoked = True
            raise OAuthError("invalid_grant", "refresh token was already used")
        scope = refresh.scope
        requested = form.get("scope")
        if requested is not None:
            # RFC 6749 §6: a refresh may narrow the scope, never widen it.
            extra = set(requested.split()) - set(refresh.scope.split())
            if extra:
                raise OAuthError("invalid_scope", f"scope exceeds the grant: {' '.join(extra)}")
            scope = self._check_scope(spec, requested)
        if not self.refresh_rotation:
            return self._issue_tokens(refresh.grant, scope, None)
        refresh.state = "rotated"
        return self._issue_tokens(refresh.grant, scope, refresh.scope)

    def _grant_device_code(self, client_id: str, form: dict[str, str]) -> dict[str, Any]:
        """RFC 8628 §3.4/§3.5 polling: pending, slow_down, denied, expired, then tokens once."""
        device = self._devices.get(_require(form, "device_code"))
        if device is None or device.client_id != client_id:
            raise OAuthError("invalid_grant", "unknown device_code")
        now = time.monotonic()
        previous, device.last_poll = device.last_poll, now
        if device.script:
            error = device.script.popleft()
            if error == "slow_down":
                device.interval += self.slow_down_increment_s
            raise OAuthError(error, "scripted response")
        if device.status == "consumed":
            raise OAuthError("invalid_grant", "device_code was already used")
        if now >= device.expires_at:
            raise OAuthError("expired_token", "device_code expired")
        if previous is not None and now - previous < device.interval:
            device.interval += self.slow_down_increment_s
            raise OAuthError("slow_down", f"poll at most every {device.interval} s")
        if device.status == "pending":
            raise OAuthError("authorization_pending", "the user has not decided yet")
        if device.status == "denied":
            raise OAuthError("access_denied", "the user denied the request")
        device.status = "consumed"
        grant = _Grant(client_id, device.subject, device.scope)
        return self._issue_tokens(grant, device.scope, device.scope)

    async def _device_code(self, request: Request) -> Response:
        """RFC 8628 §3.1/§3.2 device authorization endpoint."""
        try:
            form = await _read_form(request)
            client_id, spec, _ = self._authenticate_client(request, form)
            scope = self._check_scope(spec, form.get("scope"))
        except OAuthError as exc:
            return exc.response()
        base = _base_url(request)
        with self._lock:
            device_code = secrets.token_urlsafe(32)
            while True:
                raw = "".join(secrets.choice(_USER_CODE_ALPHABET) for _ in range(8))
                if raw not in self._user_codes:
                    break
            user_code = f"{raw[:4]}-{raw[4:]}"
            device = _Device(
                client_id=client_id,
                user_code=user_code,
                scope=scope,
                expires_at=time.monotonic() + self.device_code_ttl_s,
                interval=self.device_interval_s,
            )
            self._devices[device_code] = device
            self._user_codes[raw] = device_code
        body = {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": f"{base}/device",
            "verification_uri_complete": f"{base}/device?{urlencode({'user_code': user_code})}",
            "expires_in": self.device_code_ttl_s,
            "interval": device.interval,
        }
        return JSONResponse(body, headers=_NO_STORE)

    async def _device_page(self, request: Request) -> Response:
        """The verification page: a form to enter the user code and approve or deny."""
        if request.method == "GET":
            return self._device_form(request.query_params.get("user_code", ""))
        try:
            form = await _read_form(request)
        except OAuthError as exc:
            return _error_page(exc.error, exc.description)
        user_code = form.get("user_code", "")
        decision = form.get("decision")
        if decision not in {"approve", "deny"}:
            return self._device_form(user_code, "Choose Approve or Deny.", 400)
        with self._lock:
            try:
                device = self._find_device(user_code) if user_code else None
            except KeyError:
                device = None
            if (
                device is None
                or device.status != "pending"
                or time.monotonic() >= device.expires_at
            ):
                return self._device_form(user_code, "That code is invalid or expired.", 400)
            device.status = "approved" if decision == "approve" else "denied"
            device.subject = form.get("login_hint") or self.default_subject
        message = "Device connected" if decision == "approve" else "Access denied"
        return _page(message, f'<h1 id="result">{message}</h1><p>Return to your device.</p>')

    def _device_form(self, user_code: str, error: str = "", status: int = 200) -> Response:
        body = (
            "<h1>Connect a device</h1>"
            + (f'<p id="error">{html.escape(error)}</p>' if error else "")
            + '<form method="post" action="/device">'
            '<label>Code <input name="user_code" autocomplete="off" '
            f'value="{html.escape(user_code)}"></label>'
            '<button name="decision" value="approve">Approve</button>'
            '<button name="decision" value="deny">Deny</button>'
            "</form>"
        )
        return _page("Connect a device", body, status)

    async def _userinfo(self, request: Request) -> Response:
        """An RFC 6750 protected resource, proving which tokens are live."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            # RFC 6750 §3.1: no error code when the request carried no credentials.
            return Response(
                status_code=401, headers={"WWW-Authenticate": f'Bearer realm="{_REALM}"'}
            )
        info = self.access_token_info(token)
        if info is None:
            challenge = (
                f'Bearer realm="{_REALM}", error="invalid_token", '
                'error_description="the access token is invalid or expired"'
            )
            body = {"error": "invalid_token", "error_description": "invalid or expired token"}
            return JSONResponse(body, 401, {"WWW-Authenticate": challenge})
        return JSONResponse(
            {"sub": info["sub"], "client_id": info["client_id"], "scope": info["scope"]}
        )

    async def _revoke(self, request: Request) -> Response:
        """RFC 7009: a refresh token takes its whole grant down, an access token only itself."""
        try:
            form = await _read_form(request)
            client_id, _, _ = self._authenticate_client(request, form)
            token = _require(form, "token")
        except OAuthError as exc:
            return exc.response()
        with self._lock:
            refresh = self._refresh.get(token)
            access = self._access.get(token)
            # RFC 7009 §2.2: unknown tokens and other clients' tokens still get a 200.
            if refresh is not None and refresh.grant.client_id == client_id:
                refresh.grant.revoked = True
            elif access is not None and access.grant.client_id == client_id:
                access.expires_at = float("-inf")
        return Response(status_code=200, headers=_NO_STORE)
