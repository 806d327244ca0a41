"""AES-256-GCM credential encryption: round trips, binding to row and column, key rotation."""

from __future__ import annotations

import base64

import pytest

from app.core.crypto import (
    CredentialCipher,
    CredentialKeyError,
    DecryptionError,
    parse_keys,
)


def cipher(*ids: str) -> CredentialCipher:
    return CredentialCipher.from_spec(",".join(f"{i}:{KEYS[i]}" for i in ids))


# Fixed keys: parametrized ids must be the same in every pytest-xdist worker.
KEYS = {
    name: base64.urlsafe_b64encode(bytes([n]) * 32).decode() for n, name in enumerate(("k1", "k2"))
}


def test_round_trip_with_a_fresh_nonce_each_time():
    c = cipher("k1")
    first = c.encrypt("sk-secret", "oauth_accounts.access_token:1")
    second = c.encrypt("sk-secret", "oauth_accounts.access_token:1")
    assert first != second
    assert first.startswith("enc:v1:k1:")
    assert "sk-secret" not in first
    assert c.decrypt(first, "oauth_accounts.access_token:1") == "sk-secret"


@pytest.mark.parametrize(
    "other_place", ["oauth_accounts.access_token:2", "oauth_accounts.refresh_token:1"]
)
def test_a_ciphertext_moved_to_another_row_or_column_fails(other_place):
    c = cipher("k1")
    stored = c.encrypt("sk-secret", "oauth_accounts.access_token:1")
    with pytest.raises(DecryptionError):
        c.decrypt(stored, other_place)


def test_tampering_is_detected():
    c = cipher("k1")
    stored = c.encrypt("sk-secret", "a")
    flipped = stored[:-3] + ("A" if stored[-3] != "A" else "B") + stored[-2:]
    with pytest.raises(DecryptionError):
        c.decrypt(flipped, "a")


def test_the_first_key_encrypts_and_every_key_decrypts():
    old = cipher("k1").encrypt("value", "a")
    rotated = cipher("k2", "k1")
    assert rotated.decrypt(old, "a") == "value"
    assert rotated.needs_rotation(old)
    fresh = rotated.encrypt("value", "a")
    assert fresh.startswith("enc:v1:k2:") and not rotated.needs_rotation(fresh)


def test_a_value_under_a_removed_key_names_the_key():
    old = cipher("k1").encrypt("value", "a")
    with pytest.raises(DecryptionError, match="k1"):
        cipher("k2").decrypt(old, "a")


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "no credential key"),
        ("nocolon", "key_id:base64key"),
        ("k1:" + base64.urlsafe_b64encode(b"short").decode(), "32 bytes"),
        ("k1:!!!notbase64", "base64"),
        (f"k1:{KEYS['k1']},k1:{KEYS['k2']}", "twice"),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(spec, problem):
    with pytest.raises(CredentialKeyError, match=problem):
        parse_keys(spec)
