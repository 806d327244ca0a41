"""Fake platform consoles for browser login tests, served on 127.0.0.1 by `tests.fakes.server`.

One Starlette app, one small console per path prefix, each a login shape a real platform has:

    /pw/       username + password; a wrong password shows `.error`; `/pw/api/me` checks the
               session; `/pw/report.csv` is a download
    /sms/      username + password, then an SMS code (read it from `site.sms_codes`)
    /email/    e-mail address, then a code sent by e-mail (`site.email_codes`)
    /xhr/      the token only ever appears in an XHR JSON response (`/xhr/api/token`), then is
               sent as `Authorization: Bearer` to `/xhr/api/profile`
    /keys/     an API-key page whose "create key" button reveals a new key (`site.created_keys`)
    /captcha/  after the password, a check that only a trusted (real input) click on `#box` at
               (300..460, 200..260) and the word "orange" typed + Enter get through
    /quick/    logs the visitor in as soon as the page opens (for tests about the pool, not forms)
    /never/    a login form that never logs anyone in
    /links/    a page with a link to `outside_url`, an image from http://evil.example/, and a
               link and an image on this site that redirect out (`/links/sso`, `/links/logo.png`)

`site.expire_sessions()` ends every session (the saved storage state stops working).
"""

from __future__ import annotations

import html
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

USERNAME = "alice"
PASSWORD = "s3cret-pw"
PHONE = "13800000000"
EMAIL = "alice@example.com"
CAPTCHA_WORD = "orange"
CAPTCHA_BOX = (300, 200, 160, 60)
"""left, top, width, height of the box to click, in CSS pixels (position: fixed)."""

Handler = Callable[[Request], Awaitable[Response]]


async def _form(request: Request) -> dict[str, str]:
    """A urlencoded form body (python-multipart is not a dependency)."""
    return dict(parse_qsl((await request.body()).decode()))


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='margin:0;font-family:sans-serif'>{body}</body></html>"
    )


def _login_form(action: str, error: str | None = None, extra: str = "") -> str:
    shown = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    return (
        f"<form method='post' action='{action}' {extra}>"
        "<input name='username' autocomplete='username'>"
        "<input name='password' type='password' autocomplete='current-password'>"
        "<button type='submit'>Log in</button></form>" + shown
    )


class ConsoleSite:
    """The fake consoles and what they did (codes sent, keys created, requests seen)."""

    def __init__(self, outside_url: str = "http://evil.example") -> None:
        self.outside_url = outside_url
        self.sessions: dict[str, str] = {}
        """session token -> console prefix"""
        self.pending: dict[str, str] = {}
        self.sms_codes: dict[str, str] = {}
        self.email_codes: dict[str, str] = {}
        self.xhr_tokens: list[str] = []
        self.created_keys: list[str] = []
        self.events: list[str] = []
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.app = _counting(Starlette(routes=self._routes()), self.hits, self._lock)

    def expire_sessions(self) -> None:
        with self._lock:
            self.sessions.clear()
            self.xhr_tokens.clear()

    # --- helpers ---

    def _new_session(self, console: str) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self.sessions[token] = console
        return token

    def _valid(self, request: Request, cookie: str, console: str) -> bool:
        return self.sessions.get(request.cookies.get(cookie, "")) == console

    def _logged_in(self, console: str, cookie: str, to: str) -> RedirectResponse:
        response = RedirectResponse(to, status_code=303)
        response.set_cookie(cookie, self._new_session(console), httponly=True, samesite="lax")
        # An analytics cookie that a capture must leave out.
        response.set_cookie("_ga", "GA1.1." + secrets.token_hex(4))
        return response

    def _routes(self) -> list[Route]:
        routes = [
            Route("/pw/login", self.pw_login, methods=["GET", "POST"]),
            Route("/pw/console", self.pw_console),
            Route("/pw/api/me", self.pw_me),
            Route("/pw/report.csv", self.pw_report),
            Route("/sms/login", self.sms_login, methods=["GET", "POST"]),
            Route("/sms/verify", self.sms_verify, methods=["GET", "POST"]),
            Route("/sms/console", self.console_page("sms", "sms_session")),
            Route("/email/login", self.email_login, methods=["GET", "POST"]),
            Route("/email/code", self.email_code, methods=["GET", "POST"]),
            Route("/email/console", self.console_page("email", "mail_session")),
            Route("/xhr/login", self.xhr_login, methods=["GET", "POST"]),
            Route("/xhr/app", self.xhr_app),
            Route("/xhr/api/token", self.xhr_token, methods=["POST"]),
            Route("/xhr/api/profile", self.xhr_profile),
            Route("/keys/login", self.keys_login, methods=["GET", "POST"]),
            Route("/keys/console", self.console_page("keys", "keys_session")),
            Route("/keys/api-keys", self.keys_page),
            Route("/keys/api/create", self.keys_create, methods=["POST"]),
            Route("/captcha/login", self.captcha_login, methods=["GET", "POST"]),
            Route("/captcha/check", self.captcha_check),
            Route("/captcha/event", self.captcha_event, methods=["POST"]),
            Route("/captcha/solve", self.captcha_solve, methods=["POST"]),
            Route("/captcha/console", self.console_page("captcha", "cap_session")),
            Route("/quick/login", self.quick_login),
            Route("/quick/console", self.console_page("quick", "quick_session")),
            Route("/never/login", self.never_login, methods=["GET", "POST"]),
            Route("/links/login", self.links_login),
            Route("/links/sso", self.links_redirect),
            Route("/links/logo.png", self.links_redirect),
        ]
        return routes

    async def _credentials_ok(self, request: Request) -> bool:
        form = await _form(request)
        return form.get("username") == USERNAME and form.get("password") == PASSWORD

    def console_page(self, console: str, cookie: str) -> Handler:
        async def page(request: Request) -> Response:
            if not self._valid(request, cookie, console):
                return RedirectResponse(f"/{console}/login", status_code=303)
            return _page("Console", f"<h1 id='welcome'>Welcome {USERNAME}</h1>")

        return page

    # --- /pw/: username and password ---

    async def pw_login(self, request: Request) -> Response:
        if request.method == "POST":
            if await self._credentials_ok(request):
                return self._logged_in("pw", "pw_session", "/pw/console")
            return _page("Log in", _login_form("/pw/login", "Incorrect username or password."))
        if self._valid(request, "pw_session", "pw"):
            return RedirectResponse("/pw/console", status_code=303)
        return _page("Log in", _login_form("/pw/login"))

    async def pw_console(self, request: Request) -> Response:
        return await self.console_page("pw", "pw_session")(request)

    async def pw_me(self, request: Request) -> Response:
        if not self._valid(request, "pw_session", "pw"):
            return JSONResponse({"error": "not logged in"}, status_code=401)
        return JSONResponse({"user": USERNAME})

    async def pw_report(self, request: Request) -> Response:
        return Response(
            "day,tokens\n1,42\n",
            media_type="text/csv",
            headers={"Content-Disposition": "attachment; filename=report.csv"},
        )

    # --- /sms/: password, then an SMS code ---

    async def sms_login(self, request: Request) -> Response:
        if request.method == "POST" and await self._credentials_ok(request):
            pending = secrets.token_urlsafe(8)
            with self._lock:
                self.pending[pending] = "sms"
                self.sms_codes[PHONE] = f"{secrets.randbelow(10**6):06d}"
            response = RedirectResponse("/sms/verify", status_code=303)
            response.set_cookie("sms_pending", pending, httponly=True)
            return response
        error = "Incorrect username or password." if request.method == "POST" else None
        return _page("Log in", _login_form("/sms/login", error))

    async def sms_verify(self, request: Request) -> Response:
        if self.pending.get(request.cookies.get("sms_pending", "")) != "sms":
            return RedirectResponse("/sms/login", status_code=303)
        error = ""
        if request.method == "POST":
            form = await _form(request)
            if form.get("code") == self.sms_codes.get(PHONE):
                return self._logged_in("sms", "sms_session", "/sms/console")
            error = "<p class='error'>Wrong code.</p>"
        return _page(
            "Verify",
            "<p id='code-hint'>We sent a 6-digit code to 138****0000.</p>"
            "<form method='post'><input id='sms-code' name='code' autocomplete='one-time-code'>"
            "<button id='verify' type='submit'>Verify</button></form>" + error,
        )

    # --- /email/: an e-mailed code, no password ---

    async def email_login(self, request: Request) -> Response:
        if request.method == "POST":
            form = await _form(request)
            address = str(form.get("email", ""))
            pending = secrets.token_urlsafe(8)
            with self._lock:
                self.pending[pending] = address
                self.email_codes[address] = f"{secrets.randbelow(10**6):06d}"
            response = RedirectResponse("/email/code", status_code=303)
            response.set_cookie("mail_pending", pending, httponly=True)
            return response
        return _page(
            "Sign in",
            "<form method='post'><input id='email' name='email' type='email'>"
            "<button id='next' type='submit'>Continue</button></form>",
        )

    async def email_code(self, request: Request) -> Response:
        address = self.pending.get(request.cookies.get("mail_pending", ""))
        if not address:
            return RedirectResponse("/email/login", status_code=303)
        if request.method == "POST":
            form = await _form(request)
            if form.get("otp") == self.email_codes.get(address):
                return self._logged_in("email", "mail_session", "/email/console")
        masked = address[0] + "***" + address[address.index("@") :]
        return _page(
            "Check your e-mail",
            f"<p class='hint'>Enter the code we e-mailed to {html.escape(masked)}</p>"
            "<form method='post'><input name='otp' inputmode='numeric'></form>",
        )

    # --- /xhr/: the token only in an XHR response ---

    async def xhr_login(self, request: Request) -> Response:
        if request.method == "POST" and await self._credentials_ok(request):
            return self._logged_in("xhr", "xhr_sid", "/xhr/app")
        return _page("Log in", _login_form("/xhr/login"))

    async def xhr_app(self, request: Request) -> Response:
        if not self._valid(request, "xhr_sid", "xhr"):
            return RedirectResponse("/xhr/login", status_code=303)
        return _page(
            "App",
            "<p id='status'>loading</p><script>(async () => {"
            "const r = await fetch('/xhr/api/token', {method: 'POST'});"
            "const j = await r.json();"
            "localStorage.setItem('xhr_user', j.data.user);"
            "const p = await fetch('/xhr/api/profile',"
            " {headers: {Authorization: 'Bearer ' + j.data.access_token}});"
            "document.getElementById('status').textContent = p.ok ? 'ready' : 'error';"
            "})();</script>",
        )

    async def xhr_token(self, request: Request) -> Response:
        if not self._valid(request, "xhr_sid", "xhr"):
            return JSONResponse({"error": "not logged in"}, status_code=401)
        token = "tok-" + secrets.token_urlsafe(24)
        with self._lock:
            self.xhr_tokens.append(token)
        return JSONResponse({"data": {"access_token": token, "user": USERNAME}})

    async def xhr_profile(self, request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or token not in self.xhr_tokens:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        return JSONResponse({"user": USERNAME})

    # --- /keys/: an API key revealed by "create" ---

    async def keys_login(self, request: Request) -> Response:
        if request.method == "POST" and await self._credentials_ok(request):
            return self._logged_in("keys", "keys_session", "/keys/console")
        return _page("Log in", _login_form("/keys/login"))

    async def keys_page(self, request: Request) -> Response:
        if not self._valid(request, "keys_session", "keys"):
            return RedirectResponse("/keys/login", status_code=303)
        return _page(
            "API keys",
            "<ul><li class='key'>sk-****abcd</li></ul>"
            "<button id='create-key'>Create new secret key</button><div id='reveal'></div>"
            "<script>document.getElementById('create-key').onclick = async () => {"
            "const r = await fetch('/keys/api/create', {method: 'POST'});"
            "const j = await r.json();"
            "document.getElementById('reveal').innerHTML = '<code id=\"new-key\"></code>';"
            "document.getElementById('new-key').textContent = j.key;"
            "};</script>",
        )

    async def keys_create(self, request: Request) -> Response:
        if not self._valid(request, "keys_session", "keys"):
            return JSONResponse({"error": "not logged in"}, status_code=401)
        key = "sk-live-" + secrets.token_urlsafe(24)
        with self._lock:
            self.created_keys.append(key)
        return JSONResponse({"key": key})

    # --- /captcha/: a human check after the password ---

    async def captcha_login(self, request: Request) -> Response:
        if request.method == "POST" and await self._credentials_ok(request):
            pending = secrets.token_urlsafe(8)
            with self._lock:
                self.pending[pending] = "captcha"
            response = RedirectResponse("/captcha/check", status_code=303)
            response.set_cookie("cap_pending", pending, httponly=True)
            return response
        return _page("Log in", _login_form("/captcha/login"))

    async def captcha_check(self, request: Request) -> Response:
        left, top, width, height = CAPTCHA_BOX
        return _page(
            "Security check",
            "<div id='captcha'><p>Prove you are human: click the box, then type the word "
            f"<b>{CAPTCHA_WORD}</b> and press Enter.</p>"
            f"<button id='box' style='position:fixed;left:{left}px;top:{top}px;"
            f"width:{width}px;height:{height}px'>I am not a robot</button>"
            "<form id='answer-form' method='post' action='/captcha/solve'"
            f" style='display:none;position:fixed;left:{left}px;top:{top + 100}px'>"
            "<input id='answer' name='answer'></form>"
            "<div style='height:3000px'></div></div>"
            "<script>"
            "const report = name => fetch('/captcha/event?name=' + name, {method: 'POST'});"
            "document.getElementById('box').addEventListener('click', e => {"
            "  if (!e.isTrusted) return;"
            "  document.getElementById('answer-form').style.display = 'block';"
            "  document.getElementById('answer').focus(); report('clicked');"
            "});"
            "window.addEventListener('scroll', () => report('scrolled'), {once: true});"
            "</script>",
        )

    async def captcha_event(self, request: Request) -> Response:
        with self._lock:
            self.events.append(request.query_params.get("name", ""))
        return Response(status_code=204)

    async def captcha_solve(self, request: Request) -> Response:
        form = await _form(request)
        pending_ok = self.pending.get(request.cookies.get("cap_pending", "")) == "captcha"
        if pending_ok and "clicked" in self.events and form.get("answer") == CAPTCHA_WORD:
            return self._logged_in("captcha", "cap_session", "/captcha/console")
        return RedirectResponse("/captcha/check", status_code=303)

    # --- /quick/, /never/ and /links/ ---

    async def quick_login(self, request: Request) -> Response:
        return self._logged_in("quick", "quick_session", "/quick/console")

    async def never_login(self, request: Request) -> Response:
        return _page("Log in", _login_form("/never/login"))

    async def links_login(self, request: Request) -> Response:
        return _page(
            "Log in",
            "<img src='http://evil.example/pixel.gif' width='1' height='1'>"
            "<img src='/links/logo.png' width='1' height='1'>"
            f"<a id='help' href='{html.escape(self.outside_url)}/steal'>Help</a>"
            "<a id='sso' href='/links/sso'>Log in with a partner account</a>"
            + _login_form("/links/login"),
        )

    async def links_redirect(self, request: Request) -> Response:
        return RedirectResponse(self.outside_url + request.url.path, status_code=302)


class OutsideSite:
    """A site outside every allow-list: counts each request that reaches it."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()

        async def page(request: Request) -> Response:
            return _page("Outside", "<p>You should not be here.</p>")

        self.app = _counting(Starlette(routes=[Route("/{path:path}", page)]), self.hits, self._lock)


def _counting(app: ASGIApp, hits: Counter[str], lock: threading.Lock) -> ASGIApp:
    async def counted(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with lock:
                hits[scope["path"]] += 1
        await app(scope, receive, send)

    return counted
