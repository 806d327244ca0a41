"""The small page the user's browser lands on after an OAuth authorization.

Opened as a popup by the settings page, it tells its opener the outcome (same origin only) and
closes itself; opened directly, it says what happened and links back to the service.
"""

from __future__ import annotations

import html

import orjson
from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
h1{{font-size:1.3rem}}.ok{{color:#1a7f37}}.failed{{color:#cf222e}}</style></head>
<body><h1 class="{css}">{title}</h1><p id="message">{message}</p>
<p><a href="/">Back to OAuth Proxy</a></p>
<script>
const outcome = {payload};
if (window.opener) {{
  window.opener.postMessage(outcome, window.location.origin);
  setTimeout(() => window.close(), 1500);
}}
</script></body></html>"""

_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    # The page must reach the settings page that opened it (postMessage, then close itself);
    # the service's default opener policy would cut the popup off from its opener.
    "Cross-Origin-Opener-Policy": "unsafe-none",
}


def render_callback_page(
    *, ok: bool, message: str, account_id: int | None = None, status_code: int = 200
) -> HTMLResponse:
    title = "Account bound" if ok else "Authorization failed"
    payload = orjson.dumps(
        {
            "type": "oauth-proxy:authorization",
            "ok": ok,
            "account_id": account_id,
            "message": message,
        }
    ).decode()
    page = _PAGE.format(
        title=html.escape(title),
        css="ok" if ok else "failed",
        message=html.escape(message),
        # `</` inside a script would end it early.
        payload=payload.replace("</", "<\\/"),
    )
    return HTMLResponse(page, status_code=status_code, headers=_HEADERS)


_CONFIRM_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm the authorization</title>
<style>body{{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}}
h1{{font-size:1.3rem}}button{{font-size:1rem;padding:.4rem 1rem}}</style></head>
<body><h1>Confirm the authorization</h1><p>{message}</p>
<p id="what">Only confirm if you started this authorization yourself, just now.</p>
<p><button id="confirm" hidden>Bind the account to me</button>
<button id="decline" hidden>Don't bind it</button></p>
<p id="result"></p>
<p><a href="/">Back to OAuth Proxy</a></p>
<script>
const state = {state};
const token = sessionStorage.getItem("oauth-proxy.token") ||
  localStorage.getItem("oauth-proxy.token");
const say = (text) => {{ document.getElementById("result").textContent = text; }};
const call = (method, suffix) => fetch(
  "/api/v1/oauth/sessions/" + encodeURIComponent(state) + suffix,
  {{method, headers: {{Authorization: "Bearer " + token}}}});
if (!token) {{
  say("Sign in on the settings page in this browser, then reload this page " +
      "(or POST /api/v1/oauth/sessions/<state>/confirm with your token).");
}} else {{
  call("GET", "").then((r) => r.ok ? r.json() : null).then((body) => {{
    if (!body) {{ say("This authorization is not yours: nothing was bound."); return; }}
    document.getElementById("what").textContent = "A " + body.data.platform_id +
      " account will be bound to you. Only confirm if you started this yourself, just now.";
    const button = document.getElementById("confirm");
    const decline = document.getElementById("decline");
    button.hidden = decline.hidden = false;
    decline.onclick = () => call("DELETE", "").then(() => {{
      button.hidden = decline.hidden = true;
      say("Nothing was bound.");
    }});
    button.onclick = () => call("POST", "/confirm").then((r) => r.json()).then((done) => {{
      button.hidden = decline.hidden = true;
      const ok = done.data && done.data.status === "completed";
      say(ok ? "The account is bound." : (done.data && done.data.error) || done.message);
      if (window.opener) {{
        window.opener.postMessage({{type: "oauth-proxy:authorization", ok,
          account_id: ok && done.data.account ? done.data.account.id : null,
          message: ok ? "bound" : "failed"}}, window.location.origin);
      }}
    }});
  }});
}}
</script></body></html>"""

_CONFIRM_HEADERS = _HEADERS | {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "connect-src 'self'"
    )
}


def render_confirm_page(state: str, message: str) -> HTMLResponse:
    """The callback reached from a browser that did not start the authorization: the owner,
    signed in here, confirms it (or no one does, and it expires)."""
    page = _CONFIRM_PAGE.format(
        message=html.escape(message), state=orjson.dumps(state).decode().replace("</", "<\\/")
    )
    return HTMLResponse(page, status_code=200, headers=_CONFIRM_HEADERS)
