"""The alert checks, run every ALERT_CHECK_INTERVAL seconds by one process at a time: each kind's
conditions are worked out from the database, alerts are raised for new ones and resolved for
those that have cleared, and every change goes to the webhook.

    account_expired     an enabled account has expired                      subject account:<id>
    accounts_exhausted  every enabled, unexpired account a user has on a    subject user:<id>:
                        platform is out of quota                            platform:<id>
    success_rate_low    under ALERT_SUCCESS_RATE_THRESHOLD of a platform's   subject platform:<id>
                        attempts answered over the window, with at least
                        ALERT_SUCCESS_RATE_MIN_REQUESTS of them

A budget alert (`budget_reached`, raised by the call path: alerts/budget_alerts.py) is resolved
once its budget's period is over.

A success-rate alert stays open while the window holds too few attempts to judge, and clears
once the rate is back or nothing at all was tried.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.models import Alert, PlatformConfig, User
from app.schemas.alert import AlertKind
from app.services import account_health
from app.services.account_health import AccountHealth
from app.services.alerts import budget_alerts, store, webhook
from app.services.alerts.store import Condition
from app.services.alerts.success_rate import Rate, SuccessRates
from app.services.context import AppContext

KINDS: tuple[AlertKind, ...] = ("account_expired", "accounts_exhausted", "success_rate_low")
USABLE = ("active", "cooling", "exhausted")
"""Enabled, unexpired accounts: the ones the call path may pick from."""


def exhausted_subject(user_id: int, platform_id: str) -> str:
    return f"user:{user_id}:platform:{platform_id}"


def exhausted_message(username: str, platform_name: str, until: datetime | None) -> str:
    when = f" until {until:%Y-%m-%d %H:%M} UTC" if until is not None else ""
    return f"All of {username}'s {platform_name} accounts are out of quota{when}."


class AlertChecker:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.rates = SuccessRates(ctx.settings.alert_success_rate_window)
        self._last_round: float | None = None

    async def run(self) -> int:
        """One round of every check; returns how many alerts were raised or resolved."""
        now, started = utcnow(), time.monotonic()
        if self._last_round is not None and (
            started - self._last_round > 2 * self.ctx.settings.alert_check_interval
        ):
            # Another process ran the rounds in between: our samples are too old to compare.
            self.rates = SuccessRates(self.ctx.settings.alert_success_rate_window)
        self._last_round = started
        async with self.ctx.factory() as session:
            health = await account_health.load(session, now)
            rates = await self.rates.sample(session, started, now.date())
            names = await _usernames(session, {h.user_id for h in health})
            platforms = {
                platform_id: name
                for platform_id, name in await session.execute(
                    select(PlatformConfig.platform_id, PlatformConfig.platform_name)
                )
            }
            open_alerts = {kind: await store.open_alerts(session, kind) for kind in KINDS}
        events: list[tuple[webhook.Event, Alert]] = []
        expired = _expired(health, names)
        events += await self._reconcile(open_alerts["account_expired"], expired, set(), now)
        exhausted = _exhausted(health, names)
        events += await self._reconcile(open_alerts["accounts_exhausted"], exhausted, set(), now)
        low, undecided = self._low_rates(rates, platforms, open_alerts["success_rate_low"])
        events += await self._reconcile(open_alerts["success_rate_low"], low, undecided, now)
        events += await budget_alerts.resolve_ended(self.ctx.factory, now)
        url = self.ctx.settings.alert_webhook_url
        await webhook.deliver(self.ctx.http, url.get_secret_value() if url else None, events)
        return len(events)

    async def _reconcile(
        self,
        open_now: list[Alert],
        wanted: dict[str, Condition],
        undecided: set[str],
        now: datetime,
    ) -> list[tuple[webhook.Event, Alert]]:
        events: list[tuple[webhook.Event, Alert]] = []
        already = {alert.open_key for alert in open_now}
        for key, condition in wanted.items():
            if key not in already and (
                raised := await store.raise_alert(self.ctx.factory, condition)
            ):
                events.append(("alert.raised", raised))
        for alert in open_now:
            if alert.open_key in wanted or alert.open_key in undecided:
                continue
            if resolved := await store.resolve(self.ctx.factory, alert.id, now):
                events.append(("alert.resolved", resolved))
        return events

    def _low_rates(
        self, rates: dict[str, Rate] | None, platforms: dict[str, str], open_now: list[Alert]
    ) -> tuple[dict[str, Condition], set[str]]:
        if rates is None:  # no window yet: judge nothing, resolve nothing
            return {}, {alert.open_key for alert in open_now if alert.open_key}
        settings = self.ctx.settings
        low: dict[str, Condition] = {}
        undecided: set[str] = set()
        for platform_id, rate in rates.items():
            condition = Condition(
                "success_rate_low",
                f"platform:{platform_id}",
                _rate_message(
                    platforms.get(platform_id, platform_id),
                    rate,
                    settings.alert_success_rate_threshold,
                ),
                platform_id=platform_id,
            )
            if rate.attempts < settings.alert_success_rate_min_requests:
                if rate.attempts:
                    undecided.add(condition.open_key)
            elif rate.share < settings.alert_success_rate_threshold:
                low[condition.open_key] = condition
        return low, undecided


async def _usernames(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    return {user_id: username for user_id, username in rows}


def expired_condition(account: AccountHealth, username: str) -> Condition:
    return Condition(
        "account_expired",
        f"account:{account.account_id}",
        f"{account.platform_name} account “{account.account_name or account.account_id}” "
        f"(#{account.account_id}) of {username} has expired: refresh it or bind it again.",
        platform_id=account.platform_id,
        user_id=account.user_id,
        account_id=account.account_id,
    )


def _expired(health: Iterable[AccountHealth], names: dict[int, str]) -> dict[str, Condition]:
    conditions = (
        expired_condition(h, str(names.get(h.user_id, h.user_id)))
        for h in health
        if h.state == "expired"
    )
    return {c.open_key: c for c in conditions}


def _exhausted(health: Iterable[AccountHealth], names: dict[int, str]) -> dict[str, Condition]:
    groups: defaultdict[tuple[int, str], list[AccountHealth]] = defaultdict(list)
    for h in health:
        if h.state in USABLE:
            groups[(h.user_id, h.platform_id)].append(h)
    conditions = {}
    for (user_id, platform_id), accounts in groups.items():
        if any(h.state != "exhausted" for h in accounts):
            continue
        until = min((h.usable_again_at for h in accounts if h.usable_again_at), default=None)
        username = names.get(user_id, str(user_id))
        condition = Condition(
            "accounts_exhausted",
            exhausted_subject(user_id, platform_id),
            exhausted_message(username, accounts[0].platform_name, until),
            platform_id=platform_id,
            user_id=user_id,
        )
        conditions[condition.open_key] = condition
    return conditions


def _rate_message(platform_name: str, rate: Rate, threshold: float) -> str:
    return (
        f"{platform_name}: {rate.share:.0%} of {rate.attempts} attempts answered in the last "
        f"{round(rate.span_s / 60) or 1} min (alert under {threshold:.0%})."
    )
