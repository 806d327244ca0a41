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
