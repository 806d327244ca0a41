"""One account-status rule: the account list, the call path's selection, and the metrics and alerts
(account_health) judge the same accounts the same way, from the same figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.database import session_scope, utcnow
from app.models import AccountCooldown, AccountQuotaDay, OAuthAccount
from app.services import account_health
from app.services.account_status import load_states
from app.services.calls.account_cache import _load_accounts
from app.services.calls.selection import availability
from app.services.oauth.accounts import account_out
from app.services.quota import ledger
from app.services.quota.quota_clock import next_reset, quota_day
from tests.helpers.databases import empty_database, one_limited_account

LIMIT = 100
EXPECTED = {
    "a": "active",  # the fixture's account: nothing used
    "disabled": "disabled",
    "expired": "expired",
    "told-exhausted": "exhausted",
    "spent": "exhausted",
    "cooling": "cooling",
    "cooling-elsewhere": "cooling",  # resting from another model: usable for "m"
}


async def test_every_reader_gives_an_account_the_same_status(tmp_path):
    async with empty_database("sqlite", tmp_path) as url:
        engine, factory, platform, first = await one_limited_account(url, LIMIT)
        now = utcnow()
        later = now + timedelta(hours=1)
        async with session_scope(factory) as session:
            made = {
                name: OAuthAccount(user_id=first.user_id, platform_id="p", account_name=name)
                for name in EXPECTED
                if name != "a"
            }
            made["disabled"].is_active = False
            made["expired"].is_expired = True
            made["told-exhausted"].exhausted_until = later
            session.add_all(made.values())
            await session.flush()
            session.add_all([
                AccountQuotaDay(
                    account_id=made["spent"].id, day=quota_day(platform, now),
                    used_tokens=LIMIT, reserved_tokens=0,
                ),
                AccountCooldown(
                    account_id=made["cooling"].id, model="m", reason="rate_limited", until=later
                ),
                AccountCooldown(
                    account_id=made["cooling-elsewhere"].id, model="other",
                    reason="overloaded", until=later,
                ),
            ])  # fmt: skip

        async with factory() as session:
            rows = list(await session.execute(select(OAuthAccount).order_by(OAuthAccount.id)))
            pairs = [(account, platform) for (account,) in rows]
            states = await load_states(session, pairs, now)
            listed = {a.account_name: account_out(a, platform, states[a.id]) for a, _ in pairs}
            health = {h.account_name: h for h in await account_health.load(session, now)}
            found = await _load_accounts(session, first.user_id, "p")
            ids = [a.id for a in found.accounts]
            totals = await ledger.totals(session, ids, {quota_day(platform, now)})
        await engine.dispose()

        assert {name: out.status for name, out in listed.items()} == EXPECTED
        assert {name: h.state for name, h in health.items()} == EXPECTED
        assert listed["spent"].reset_at == health["spent"].usable_again_at
        assert listed["spent"].reset_at == next_reset(platform, now)
        assert listed["told-exhausted"].reset_at == later
        assert listed["cooling"].reset_at == later

        by_id = {account_id: t for (account_id, _), t in totals.items()}
        chosen = availability(found.accounts, found.cooldowns, by_id, platform, "m", now)
        names = {a.id: a.account_name for a in found.accounts}
        assert sorted(names[a.id] for a in chosen.usable) == ["a", "cooling-elsewhere"]
        assert sorted(names[i] for i in chosen.spent) == ["spent", "told-exhausted"]
        assert {names[i]: reason for i, (_, reason) in chosen.waits.items()} == {
            "told-exhausted": "quota_exhausted",
            "spent": "quota_exhausted",
            "cooling": "rate_limited",
        }
        assert [a.account_name for a in chosen.expired] == ["expired"]
        assert chosen.disabled == 1
