"""The allow-list: which hosts a login's browser may reach, and a record of what it refused."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from ipaddress import ip_address
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, Request
from playwright.async_api import Error as PlaywrightError

logger = logging.getLogger(__name__)


DEFAULT_PORTS = (80, 443)


def host_allowed(host: str, allowed_domains: Sequence[str], port: int | None = None) -> bool:
    """Whether `host` (and `port`, when given) is one of `allowed_domains` or a subdomain of one.

    IP addresses and `localhost` match only when listed exactly, never as a parent domain. An
    entry written as a URL or a wildcard (`https://x.com/`, `*.x.com`) counts as its host. An
    entry names its port (`127.0.0.1:8443`, `https://x.com:8443/`) or allows 80 and 443 only.
    """
    host = host.lower().rstrip(".").strip("[]")
    if not host:
        return False
    for entry in allowed_domains:
        domain, ports = _domain(entry)
        if not domain or (port is not None and port not in ports):
            continue
        if host == domain:
            return True
        if is_ip(domain) or domain == "localhost":
            continue
        if host.endswith("." + domain):
            return True
    return False


def _domain(entry: str) -> tuple[str, tuple[int, ...]]:
    entry = entry.strip().lower().removeprefix("*.")
    parts = urlsplit(entry if "://" in entry else f"//{entry}")
    try:
        port = parts.port
    except ValueError:
        return "", ()
    return (parts.hostname or "").strip("."), (port,) if port else DEFAULT_PORTS


def is_ip(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def url_allowed(url: str, allowed_domains: Sequence[str]) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    if parts.scheme not in ("http", "https", "ws", "wss"):
        return False
    try:
        port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    except ValueError:
        return False
    return host_allowed(parts.hostname or "", allowed_domains, port)


def redact_url(url: str) -> str:
    """Scheme, host and path only: query strings and fragments can carry tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class BlockedRequest:
    url: str
    """Without query or fragment."""
    host: str
    navigation: bool
    """A top-level navigation (a link, a redirect), not a subresource."""


@dataclass
class GuardedContext:
    """A browser context that only reaches the allowed domains; `blocked` lists what it refused."""

    context: BrowserContext
    allowed_domains: tuple[str, ...]
    blocked: list[BlockedRequest] = field(default_factory=list)

    def blocked_navigation(self) -> BlockedRequest | None:
        return next((b for b in self.blocked if b.navigation), None)

    def check_page_url(self, url: str) -> None:
        """Record a page that ended up outside the list (a redirect the proxy refused)."""
        if url.startswith(("http:", "https:")) and not url_allowed(url, self.allowed_domains):
            self.record(url, navigation=True)

    def _on_request(self, request: Request) -> None:
        # Every request, each hop of a redirect included: the proxy refuses the outside ones,
        # this tells whether it was the page itself being sent away.
        if not url_allowed(request.url, self.allowed_domains):
            self.record(request.url, navigation=_is_page_navigation(request))

    def record(self, url: str, *, navigation: bool) -> None:
        record_blocked(self.blocked, url, navigation=navigation)


def _is_page_navigation(request: Request) -> bool:
    with suppress(PlaywrightError):  # a service worker's request has no frame
        return request.is_navigation_request() and request.frame.parent_frame is None
    return False


def record_blocked(blocked: list[BlockedRequest], url: str, *, navigation: bool) -> None:
    """Add a refused URL once; a navigation replaces the same URL seen as a plain request."""
    entry = BlockedRequest(
        url=redact_url(url), host=urlsplit(url).hostname or "", navigation=navigation
    )
    for index, known in enumerate(blocked):
        if known.url == entry.url:
            if navigation and not known.navigation:
                blocked[index] = entry
            return
    blocked.append(entry)
    logger.info("browser request blocked", extra={"host": entry.host, "navigation": navigation})
