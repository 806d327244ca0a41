"""Passwords (Argon2) and the service's bearer tokens (JWT).

Tokens are HS256 with `JWT_SECRET` by default. A host application may issue them instead, signed
RS256/ES256 and verified here with `JWT_PUBLIC_KEY` or the keys at `JWT_JWKS_URL`; either way the
`sub` claim names the user. This module knows nothing of users: it only proves who a token names.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import anyio
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.config import Settings
from app.core.outbound import AddressRefused, OutboundGuard

if TYPE_CHECKING:
    from jwt.algorithms import AllowedPublicKeys
    from jwt.api_jwt import AllowedPublicKeyTypes

_hasher = PasswordHasher()


async def hash_password(password: str) -> str:
    # Argon2 is deliberately slow: keep it off the event loop.
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown user) a dummy one is checked so timing matches."""

    def _verify() -> bool:
        try:
            return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(_verify)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("no-such-user")


class InvalidToken(Exception):
    """The bearer token is malformed, expired, or not signed by a trusted key."""


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenService:
    """Issues and verifies the service's JWTs according to the settings."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._algorithm = settings.jwt_algorithm
        self._secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url) if settings.jwt_jwks_url else None
        self._outbound = OutboundGuard(allow_private=settings.allows_private_outbound)

    @property
    def can_issue(self) -> bool:
        return self._algorithm == "HS256" and bool(self._secret)

    def issue(self, subject: str) -> IssuedToken:
        if not self.can_issue or self._secret is None:
            raise InvalidToken("this service does not issue tokens; the host application does")
        now = int(time.time())
        lifetime = self._settings.jwt_expire_seconds
        claims: dict[str, object] = {"sub": subject, "iat": now, "exp": now + lifetime}
        if self._settings.jwt_issuer:
            claims["iss"] = self._settings.jwt_issuer
        if self._settings.jwt_audience:
            claims["aud"] = self._settings.jwt_audience
        return IssuedToken(jwt.encode(claims, self._secret, algorithm="HS256"), lifetime)

    async def verify(self, token: str) -> str:
        """Return the token's subject, or raise InvalidToken."""
        key = await self._verification_key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                issuer=self._settings.jwt_issuer,
                audience=self._settings.jwt_audience,
                options={"require": ["exp", "sub"]},
                leeway=30,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("token has no subject")
        return subject

    async def _verification_key(self, token: str) -> AllowedPublicKeyTypes:
        if self._algorithm == "HS256":
            if not self._secret:
                raise InvalidToken("no JWT secret configured")
            return self._secret
        if self._settings.jwt_public_key:
            return self._settings.jwt_public_key
        if self._jwks is not None and self._settings.jwt_jwks_url:
            jwks = self._jwks
            try:
                await self._outbound.check_url(self._settings.jwt_jwks_url)
                # PyJWKClient fetches (and caches) over blocking HTTP.
                signing_key = await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)
            except (jwt.PyJWTError, AddressRefused) as exc:
                raise InvalidToken(str(exc)) from exc
            # The key alone: the configured algorithm decides, not the JWK's own `alg`.
            public_key: AllowedPublicKeys = signing_key.key
            return public_key
        raise InvalidToken("no JWT verification key configured")
