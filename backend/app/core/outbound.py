"""Where the service's own requests may go: platforms' APIs, OAuth servers, JWKS, the alert
webhook. Unless OUTBOUND_ALLOW_PRIVATE, a host whose resolved address is private, loopback,
link-local (the cloud metadata service), multicast, reserved or unspecified is refused, so an
edited platform config cannot point the service at its own network.

The check is on the addresses the name resolves to, not the name. The lean path's connections
are filtered by the resolver itself (`GuardedResolver`: the address checked is the address
connected to); httpx requests and litellm's calls are checked just before they are sent, with
each host's verdict kept for VERDICT_TTL_S.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from typing import Any

import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

from app.core.errors import AppError

VERDICT_TTL_S = 60.0


class AddressRefused(AppError):
    status_code = 502
    code = "address_refused"


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified
    )  # fmt: skip


def _refusal(host: str) -> AddressRefused:
    return AddressRefused(
        f"{host} resolves to a private, loopback or link-local address, which this service "
        "does not call (OUTBOUND_ALLOW_PRIVATE)."
    )


class OutboundGuard:
    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._verdicts: dict[str, tuple[float, bool]] = {}

    async def check_url(self, url: str) -> None:
        """Raises AddressRefused when the URL's host resolves to an address not to be called."""
        host = URL(url).host
        if self.allow_private or not host:
            return
        now = time.monotonic()
        known = self._verdicts.get(host)
        if known is None or known[0] < now:
            known = (now + VERDICT_TTL_S, await self._resolves_publicly(host))
            self._verdicts[host] = known
        if not known[1]:
            raise _refusal(host)

    async def check_request(self, request: httpx.Request) -> None:
        """An httpx `request` event hook: every request and redirect of the client is checked."""
        await self.check_url(str(request.url))

    def httpx_hooks(self) -> dict[str, list[Any]]:
        return {"request": [self.check_request]}

    def resolver(self) -> AbstractResolver:
        return GuardedResolver() if not self.allow_private else DefaultResolver()

    @staticmethod
    async def _resolves_publicly(host: str) -> bool:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, None)
        except socket.gaierror:
            return True  # nothing to reach: the request itself fails as unreachable
        return all(is_public(str(entry[4][0])) for entry in found)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, answering only public addresses."""

    def __init__(self) -> None:
        self._resolver = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        if not all(is_public(entry["host"]) for entry in found):
            raise OSError(f"{host} resolves to an address this service does not call")
        return found

    async def close(self) -> None:
        await self._resolver.close()
