"""What a call that got no account is told, by how its accounts stand when it gives up."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.errors import TooManyRequests
from app.models import OAuthAccount
from app.services.calls import refusals
from app.services.calls.selection import Availability

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


def account(account_id: int, **fields: object) -> OAuthAccount:
    return OAuthAccount(
        id=account_id, user_id=1, platform_id="openai", account_name=f"a{account_id}", **fields
    )


def test_accounts_usable_now_that_the_call_never_got_were_busy_not_missing():
    found = Availability(usable=[account(1), account(2)])

    refusal = refusals.nothing_left("OpenAI", found, [], NOW)

    assert isinstance(refusal, TooManyRequests)
    assert refusal.headers == {"Retry-After": "1"}
    assert (
        refusal.message == "All your OpenAI accounts were busy with other calls; try again in 1 s."
    )


def test_accounts_disabled_or_expired_are_named():
    found = Availability(disabled=1, expired=[account(2, status_reason="key revoked")])

    refusal = refusals.nothing_left("OpenAI", found, [], NOW)

    assert (refusal.status_code, refusal.code) == (400, "no_usable_account")
    assert refusal.message == (
        "None of your OpenAI accounts can be used now: 1 disabled, 1 expired (key revoked). "
        "Enable, refresh or bind one."
    )


def test_no_account_at_all_says_how_to_bind_one():
    refusal = refusals.nothing_left("OpenAI", Availability(), [], NOW)

    assert (refusal.status_code, refusal.code) == (400, "no_account")
