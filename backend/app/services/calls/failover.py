"""Failover: up to CALL_MAX_ATTEMPTS attempts at a call, each on another account where one exists.

    an attempt fails → its class (platforms.md §2) decides:
        bad_request     the request's fault: straight back to the caller, nothing charged
        auth_expired    one renewal of the credential, then the same account again; else the
                        account is marked expired and the next one tried
        any other       the failure is booked (the account rests or is exhausted), next account
    nothing left → 429 with Retry-After (every account out of quota or resting) or 503
    a route: the same on each target in turn, until one answers or the attempts are spent; a
    target with no usable account costs no attempt; a refusal that is the target's own (an
    unknown model, an unsupported parameter) moves on too (refusals.moves_on)

A cancelled attempt (the caller hung up) gives back what its account was admitted with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import anyio

from app.core.database import session_scope
from app.core.errors import AppError
from app.core.outbound import AddressRefused
from app.services import alerts
from app.services.calls import account_state, monitoring, refusals, served
from app.services.calls.admission import Admission
from app.services.calls.budget_gate import BudgetGate
from app.services.calls.choosing import Attempt, ChatCall, Chooser
from app.services.calls.selection import Availability
from app.services.calls.usage import TokenUsage
from app.services.context import AppContext
from app.services.oauth.adapters.errors import Classified
from app.services.request_log import trace

logger = logging.getLogger(__name__)

T = TypeVar("T")
Book = Callable[[ChatCall, Attempt, TokenUsage | None, Classified | None], Awaitable[None]]
"""Writes an attempt's books (calls/call_path.py)."""
Classify = Callable[[Attempt, BaseException], Classified]


class Failover:
    def __init__(
        self,
        ctx: AppContext,
        admission: Admission,
        chooser: Chooser,
        book: Book,
        classify: Classify,
    ) -> None:
        self.ctx = ctx
        self.admission = admission
        self.chooser = chooser
        self.book = book
        self.classify = classify
        self.budgets = BudgetGate(ctx, lambda: self.chooser.clock())

    async def run(
        self, call: ChatCall, attempt: Callable[[Attempt], Awaitable[T]], *, stream: bool
    ) -> tuple[Attempt, T]:
        """The first attempt that answers, and its answer; raises what the caller is told when
        none does. A route's targets are tried in turn, sharing the attempts. The call's budgets
        are reserved first; what answers settles them with its books, else they are given back."""
        holds = await self.budgets.reserve(call)
        try:
            return await self._run_targets(replace(call, budget_holds=holds), attempt, stream)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.budgets.release(holds)
            raise

    async def _run_targets(
        self, call: ChatCall, attempt: Callable[[Attempt], Awaitable[T]], stream: bool
    ) -> tuple[Attempt, T]:
        budget = [self.ctx.settings.call_max_attempts]
        if call.route is None:
            return await self._run_target(call, attempt, stream, budget)
        passed: list[AppError] = []
        for target in call.route.targets:
            if budget[0] <= 0:
                break
            leg = replace(call, platform=target.platform, model=target.model)
            try:
                return await self._run_target(leg, attempt, stream, budget)
            except AppError as refused:
                if not refusals.moves_on(refused):
                    raise
                passed.append(refused)
        raise refusals.route_exhausted(call.route.name, passed)

    async def _run_target(
        self,
        call: ChatCall,
        attempt: Callable[[Attempt], Awaitable[T]],
        stream: bool,
        budget: list[int],
    ) -> tuple[Attempt, T]:
        """Attempts on one platform and model while `budget` (attempts left) lasts; an account
        found unusable costs no attempt."""
        started = time.monotonic()
        tried: set[int] = set()
        renewed: set[int] = set()
        failures: list[Classified] = []
        again: int | None = None
        transient = Availability()  # accounts found busy or rate-limited along the way
        while budget[0] > 0:
            chosen = await self.chooser.next(call, tried, again, transient)
            again = None
            if chosen is None:
                break
            budget[0] -= 1
            route = call.route.name if call.route else None
            trace.attempt(route, call.platform.platform_id, call.model, chosen.account.id)
            if failures:
                monitoring.failed_over(call.platform)
            await self._check_address(chosen)
            try:
                answer = await attempt(chosen)
            except Exception as exc:
                failure = self.classify(chosen, exc)
            except BaseException:  # cancelled: the caller is gone, give back what was taken
                with anyio.CancelScope(shield=True):
                    await self.admission.withdraw_committed(chosen.admitted)
                raise
            else:
                trace.answered()
                monitoring.call_ended(call.platform, call.model, "ok", started, stream)
                served.note(call.platform.platform_id, call.model, chosen.account.id)
                return chosen, answer
            if await self._failed(call, chosen, failure, renewed, started, stream):
                again = chosen.account.id  # the same account, with its renewed credential
                continue
            tried.add(chosen.account.id)
            failures.append(failure)
        outcome = failures[-1].kind if failures else "no_account"
        monitoring.call_ended(call.platform, call.model, outcome, started, stream)
        raise await self._give_up(call, failures, transient)

    async def _check_address(self, chosen: Attempt) -> None:
        """A platform at a refused address is a configuration fault: said, not failed over."""
        try:
            await self.ctx.outbound.check_url(chosen.target.api_base)
        except AddressRefused:
            await self.admission.withdraw_committed(chosen.admitted)
            raise

    async def _failed(
        self,
        call: ChatCall,
        chosen: Attempt,
        failure: Classified,
        renewed: set[int],
        started: float,
        stream: bool,
    ) -> bool:
        """Act on a failed attempt; True when its account is to be tried again (renewed)."""
        account_id = chosen.account.id
        trace.failed(failure)
        monitoring.attempt_failed(call.platform, failure.kind)
        logger.info(
            "call to %s/%s on account %s failed: %s (HTTP %s, code %s): %s",
            call.platform.platform_id,
            call.model,
            account_id,
            failure.kind,
            failure.status,
            failure.code,
            failure.message,
        )
        if failure.kind == "bad_request":  # the request's fault, not the account's
            await self.admission.withdraw_committed(chosen.admitted)
            monitoring.call_ended(call.platform, call.model, failure.kind, started, stream)
            raise refusals.rejected(call.platform.platform_name, failure, call.route is not None)
        await self.book(call, chosen, None, failure)
        if failure.kind != "auth_expired":
            return False
        if account_id not in renewed:
            renewed.add(account_id)
            if await self.ctx.renewer.refresh_after_unauthorized(account_id):
                return True
        await self._mark_expired(call, account_id, failure)
        return False

    async def _mark_expired(self, call: ChatCall, account_id: int, failure: Classified) -> None:
        reason = (
            f"{call.platform.platform_name} refused the credential ({failure.message}); "
            "bind the account again."
        )
        async with session_scope(self.ctx.factory) as session:
            await account_state.mark_expired(session, call.user_id, account_id, reason)
        await alerts.account_expired(self.ctx, call.user_id, account_id)

    async def _give_up(
        self, call: ChatCall, failures: list[Classified], transient: Availability
    ) -> AppError:
        """What the caller is told when no attempt answered."""
        now = self.chooser.clock()
        async with self.ctx.factory() as session:
            found = await self.admission.survey(
                session, call.user_id, call.platform, call.model, now, full=True
            )
        for account in list(found.usable):  # still waiting for what this call found
            until, reason = transient.waits.get(account.id, (None, ""))
            if until is not None and until > now:
                found.wait(account, until, reason)
        if not found.usable and found.waiting and found.waiting == len(found.spent):
            await alerts.accounts_exhausted(
                self.ctx, call.user_id, call.platform.platform_id, found.waiting_until
            )
        return refusals.nothing_left(call.platform.platform_name, found, failures, now)
