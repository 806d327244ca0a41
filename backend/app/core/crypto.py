"""Credential encryption: AES-256-GCM with a random nonce per value.

A stored value reads `enc:v1:<key_id>:<base64url(nonce || ciphertext+tag)>`. The caller passes
associated data naming the row and column (`oauth_accounts.access_token:42`), so a ciphertext
copied into another row or column fails to decrypt. Several keys may be configured: the first
encrypts, every one decrypts, which is what lets `scripts/rotate_credential_keys.py` move stored
values to a new key while the service keeps running.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc:v1:"
NONCE_BYTES = 12


class CredentialKeyError(ValueError):
    """The configured keys are unusable (start-up error)."""


class DecryptionError(Exception):
    """A stored value cannot be decrypted: unknown key id, tampering, or wrong row/column."""


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    return base64.urlsafe_b64decode(padded)


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse `id:base64key,id2:base64key2` keeping order (the first entry is the current key)."""
    keys: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in spec.split(","))):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not key_id or ":" in encoded:
            raise CredentialKeyError("each credential key must look like `key_id:base64key`")
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise CredentialKeyError(f"credential key {key_id!r} is not valid base64") from exc
        if len(key) != 32:
            raise CredentialKeyError(f"credential key {key_id!r} must be 32 bytes (AES-256)")
        if key_id in keys:
            raise CredentialKeyError(f"credential key id {key_id!r} is given twice")
        keys[key_id] = key
    if not keys:
        raise CredentialKeyError("no credential key configured (CREDENTIAL_KEYS)")
    return keys


def generate_key() -> str:
    """A fresh base64url-encoded 256-bit key, for the README's rotation steps."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class CredentialCipher:
    keys: dict[str, bytes]

    @classmethod
    def from_spec(cls, spec: str) -> CredentialCipher:
        return cls(parse_keys(spec))

    @property
    def current_key_id(self) -> str:
        return next(iter(self.keys))

    def encrypt(self, plaintext: str, associated_data: str) -> str:
        key_id = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[key_id]).encrypt(
            nonce, plaintext.encode("utf-8"), associated_data.encode("utf-8")
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}{key_id}:{token}"

    def decrypt(self, stored: str, associated_data: str) -> str:
        key_id = self.key_id_of(stored)
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"stored credential uses key {key_id!r}, which is not configured")
        try:
            blob = _b64decode(stored[len(PREFIX) + len(key_id) + 1 :])
            plain = AESGCM(key).decrypt(
                blob[:NONCE_BYTES], blob[NONCE_BYTES:], associated_data.encode("utf-8")
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise DecryptionError("stored credential failed authentication") from exc
        return plain.decode("utf-8")

    @staticmethod
    def key_id_of(stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise DecryptionError("stored credential is not in the encrypted format")
        key_id, sep, _ = stored[len(PREFIX) :].partition(":")
        if not sep:
            raise DecryptionError("stored credential is not in the encrypted format")
        return key_id

    def needs_rotation(self, stored: str) -> bool:
        return self.key_id_of(stored) != self.current_key_id
