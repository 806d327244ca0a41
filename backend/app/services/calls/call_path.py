"""The call path (the seed's `litellm_proxy.py` re-exports it): pick an account, call the
platform (directly or through litellm), answer, record usage — and when a call fails, classify
it, act on it, and fail over.

    up to CALL_MAX_ATTEMPTS attempts, each on another account where one exists:
        choose and admit an account (calls/choosing.py, calls/admission.py): the platform's
        strategy, the concurrency cap, requests per minute, a reservation of the estimate
                                                         (a short transaction per account)
        call the platform with that account's credential: through litellm, or directly for
        platforms that speak OpenAI's API (calls/passthrough.py)   (no transaction open)
        answered → the reservation settled to the real tokens, usage and last_used_at
                   recorded (quota/books.py)   (one short transaction, shared by the calls
                                                that end together)
        failed   → the reservation released; classified (platforms.md §2) and acted on
                   (one short transaction; calls/failover.py):
                   bad_request straight back to the caller; auth_expired one refresh and the
                   same account again, else the account is marked expired; the rest fail over
    nothing left → 429 with Retry-After (every account out of quota or resting) or 503

A stream fails over only until its first byte reaches the caller (empty role chunks are held back
until then); a failure after that ends the stream with an OpenAI error event
(calls/stream_relay.py). On the lean path its events go through as the platform's bytes
(calls/byte_stream.py).
"""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from sqlalchemy.exc import SQLAlchemyError

from app.core.llm import LLM
from app.schemas.chat import ChatCompletionRequest
from app.services import key_limits
from app.services.calls import (
    byte_stream,
    passthrough,
    responses,
    route_plan,
    routing,
    stream_relay,
    token_count,
    usage,
)
from app.services.calls import native as natives
from app.services.calls.admission import Admission
from app.services.calls.answer_cache import Answer, AnswerCache, cache_use
from app.services.calls.choosing import Attempt, ChatCall, Chooser
from app.services.calls.failover import Failover
from app.services.calls.native import NativeCall
from app.services.calls.stream_relay import StreamFormat, Tally
from app.services.calls.upstream_error import from_exception, transport_errors
from app.services.calls.usage import TokenUsage
from app.services.context import AppContext
from app.services.oauth.adapters.errors import Classified
from app.services.quota import books
from app.services.request_log import trace

_OWN_WIRE = ("anthropic", "gemini")  # providers that take no OpenAI `extra_body`


class CallPath:
    def __init__(self, ctx: AppContext, llm: LLM, admission: Admission) -> None:
        self.ctx = ctx
        self.llm = llm
        self.admission = admission
        self.chooser = Chooser(ctx, admission)
        self.failover = Failover(ctx, admission, self.chooser, self._book, self._classify)
        self.books = books.Books(ctx.factory)
        self._pool: aiohttp.ClientSession | None = None
        self._transport_errors: tuple[type[BaseException], ...] = ()
        """litellm's exceptions for a connection that failed, once litellm is loaded."""
        self.settings = ctx.settings
        self._last_used = usage.LastUsed()
        self.draw = random.Random()  # noqa: S311 - spreads a weighted route's calls; tests seed it
        self.answers = (
            AnswerCache(self.settings.litellm_cache_ttl)
            if self.settings.litellm_cache_enabled
            else None
        )

    async def litellm_needed(self) -> bool:
        """Whether some enabled platform's calls go through litellm (not the lean path); yes
        when the platforms cannot be read (a database not migrated or not reachable yet)."""
        if not self.settings.call_lean_path:
            return True
        try:
            platforms = await self.admission.cache.platforms(self.ctx.factory)
        except (SQLAlchemyError, OSError):
            return True
        return any(p.is_enabled and not passthrough.eligible(p) for p in platforms.values())

    async def close(self) -> None:
        """At shutdown, once no call is in flight: give back the quota blocks still held."""
        await self.admission.allowances.close()
        if self._pool is not None:
            await self._pool.close()

    async def prepare(
        self,
        user_id: int,
        request: ChatCompletionRequest,
        platform_id: str | None = None,
        cache_control: str | None = None,
    ) -> ChatCall:
        """Resolve the request's platform and model (raises NotFound/BadRequest)."""
        trace.asked(request.model)
        plan = None
        if platform_id is None and request.model:
            plan, platforms = await route_plan.plan_for(
                self.ctx.factory, self.admission, user_id, request.model, self.draw,
                self.chooser.clock(),
            )  # fmt: skip
        else:
            platforms = await self.admission.cache.platforms(self.ctx.factory)
        if plan is not None:
            found = routing.Route(plan.targets[0].platform, plan.targets[0].model)
        else:
            found = await routing.route(
                self.ctx.factory, user_id, request.model, platforms, platform_id
            )
        asked = request.model or found.model
        key_limits.check_model(asked, found.platform.platform_id, found.model)
        return ChatCall(
            user_id=user_id,
            route=plan,
            platform=found.platform,
            model=found.model,
            messages=request.messages,
            params=(params := request.litellm_params()),
            extra_body=request.extra_body(),
            include_usage=request.wants_usage,
            cache=cache_use(request.messages, params, request.cache, cache_control),
            api_key_id=key_limits.calling_key_id(),
            budgets=key_limits.call_budgets(user_id),
        )

    # --- the two ways to call ---

    async def complete(self, call: ChatCall) -> dict[str, Any]:
        """A whole `chat.completion`."""
        return (await self.answer(call)).body

    async def answer(self, call: ChatCall) -> Answer:
        """A whole `chat.completion`, from the answer cache when the call may be served from it
        and an identical one is there."""
        cache_key = None
        if self.answers is not None and call.cache.write:
            asked = {"messages": call.messages, "params": call.params, "extra": call.extra_body}
            cache_key = self.answers.key(call.user_id, call.platform.platform_id, call.model, asked)
            cached = self.answers.get(cache_key, call.cache.max_age_s) if call.cache.read else None
            if cached is not None:
                trace.from_cache(call.platform.platform_id, call.model)
                return Answer(cached, from_cache=True)

        async def attempt(chosen: Attempt) -> Any:
            acompletion = await self._acompletion(chosen.call)
            return await acompletion(**self._arguments(chosen, stream=False))

        chosen, response = await self.failover.run(call, attempt, stream=False)
        tokens = usage.usage_of(response) or await self._estimate(
            call, chosen.target.model, "".join(c.message.content or "" for c in response.choices)
        )
        await self._book(call, chosen, tokens)
        body = responses.completion_body(response, tokens, chosen.call.model)
        if cache_key is not None and self.answers is not None:
            self.answers.put(cache_key, body, call.cache.ttl_s)
        return Answer(body)

    async def open_stream(
        self, call: ChatCall, format: StreamFormat | None = None
    ) -> AsyncIterator[bytes]:
        """Server-sent `chat.completion.chunk` events, or with a `format` another API's events
        made from the chunks (app/services/surfaces/). Fails over (and raises AppError) until an
        upstream has produced its first byte of answer; returns the events from then on. On the
        lean path OpenAI's events are the platform's bytes (calls/byte_stream.py)."""
        if format is None and self._lean(call):
            return await self._open_bytes(call)

        async def attempt(chosen: Attempt) -> tuple[Any, list[Any], bool]:
            acompletion = await self._acompletion(chosen.call)
            stream = await acompletion(**self._arguments(chosen, stream=True))
            return await stream_relay.first_answer(stream, responses.carries_answer)

        chosen, (stream, held, ended) = await self.failover.run(call, attempt, stream=True)
        format = format or stream_relay.ChatChunks(include_usage=call.include_usage)
        tally = stream_relay.Tally()
        events = stream_relay.chunk_events(stream, held, ended, tally, format, chosen.call.model)
        return stream_relay.relay(stream, events, tally, self._ending(chosen, format))

    # --- calls in the platform's own API (calls/native.py) ---

    async def complete_native(self, call: ChatCall, native: NativeCall) -> dict[str, Any]:
        """The platform's whole answer to a request in its own API."""
        seconds = self.settings.call_timeout
        call = replace(call, route=route_plan.spoken(call.route, call.platform, native.speakers))

        async def attempt(chosen: Attempt) -> dict[str, Any]:
            return await natives.answer(self._lean_pool(), chosen.target, native, seconds)

        chosen, answer = await self.failover.run(call, attempt, stream=False)
        tokens = native.wire.usage(answer) or await self._estimate(
            call, chosen.target.model, native.wire.text(answer)
        )
        await self._book(call, chosen, tokens)
        return answer

    async def open_native_stream(
        self, call: ChatCall, native: NativeCall, format: StreamFormat | None = None
    ) -> AsyncIterator[bytes]:
        """The platform's stream in its own API's events, failing over until its first byte;
        `format`: the wire's own, when the caller reads it afterwards."""
        seconds = self.settings.call_timeout
        call = replace(call, route=route_plan.spoken(call.route, call.platform, native.speakers))

        async def attempt(chosen: Attempt) -> tuple[Any, list[Any], bool]:
            stream = await natives.open_stream(self._lean_pool(), chosen.target, native, seconds)
            return await stream_relay.first_answer(stream, native.wire.carries_answer, parsed=True)

        chosen, (stream, held, ended) = await self.failover.run(call, attempt, stream=True)
        format = format or native.wire.format()
        tally = stream_relay.Tally()
        events = stream_relay.chunk_events(stream, held, ended, tally, format)
        return stream_relay.relay(stream, events, tally, self._ending(chosen, format))

    async def _open_bytes(self, call: ChatCall) -> AsyncIterator[bytes]:
        async def attempt(chosen: Attempt) -> tuple[byte_stream.ByteStream, Tally]:
            tally = Tally()
            stream = await byte_stream.open_stream(
                self._lean_pool(),
                tally,
                with_usage=call.include_usage,
                **self._arguments(chosen, stream=True),
            )
            try:
                await stream.open(stream_relay.MAX_HELD_CHUNKS)
            except BaseException:
                await stream.aclose()
                raise
            return stream, tally

        chosen, (stream, tally) = await self.failover.run(call, attempt, stream=True)
        format = stream_relay.ChatChunks(include_usage=call.include_usage)
        return stream_relay.relay(stream, stream, tally, self._ending(chosen, format))

    def _lean(self, call: ChatCall) -> bool:
        """The lean path, for a call whose every platform (a route's targets') speaks OpenAI's."""
        platforms = route_plan.platforms(call.route, call.platform)
        return self.settings.call_lean_path and all(map(passthrough.eligible, platforms))

    def _lean_pool(self) -> aiohttp.ClientSession:
        if self._pool is None:  # made in the event loop that uses it
            self._pool = passthrough.pool(self.ctx.outbound.resolver())
        return self._pool

    async def _acompletion(self, call: ChatCall) -> Callable[..., Awaitable[Any]]:
        """litellm's `acompletion`, or the lean path's for platforms that speak OpenAI's API."""
        if self._lean(call):
            return functools.partial(passthrough.acompletion, self._lean_pool())
        litellm = await self.llm.module()
        self._transport_errors = transport_errors(litellm)
        return litellm.acompletion  # type: ignore[no-any-return]

    def _arguments(self, chosen: Attempt, *, stream: bool) -> dict[str, Any]:
        call, target = chosen.call, chosen.target
        arguments: dict[str, Any] = {
            **call.params,
            "model": target.model,
            "api_base": target.api_base,
            "api_key": target.api_key,
            "messages": call.messages,
            "timeout": self.settings.call_timeout,
            "max_retries": 0,  # our own retries go to another account, never the same one
            "drop_params": True,
        }
        if target.extra_headers:
            arguments["extra_headers"] = dict(target.extra_headers)
        litellm_config = call.platform.litellm_config
        if litellm_config.get("provider") not in _OWN_WIRE:
            # `user` as it is: litellm drops it for providers it thinks lack it.
            extra = {**_passed(call.params), **call.extra_body}
            if extra:
                arguments["extra_body"] = extra
        if stream:
            arguments["stream"] = True
            if litellm_config.get("stream_usage", True):
                arguments["stream_options"] = {"include_usage": True}
        return arguments

    # --- streams ---

    def _ending(self, chosen: Attempt, format: StreamFormat) -> stream_relay.Ending:
        call = chosen.call

        async def settle(tally: Tally) -> None:
            tokens = tally.usage or tally.extrapolated(
                await self._estimate(call, chosen.target.model, tally.answer_text())
            )
            tally.charged = tokens
            await self._book(call, chosen, tokens, tally.failure)

        return stream_relay.Ending(
            call.platform.platform_name,
            format,
            settle,
            functools.partial(self._classify, chosen),
        )

    def _classify(self, chosen: Attempt, exc: BaseException) -> Classified:
        return chosen.adapter.classify_error(from_exception(exc, self._transport_errors))

    # --- books ---
    async def _book(
        self,
        call: ChatCall,
        chosen: Attempt,
        tokens: TokenUsage | None,
        failure: Classified | None = None,
    ) -> None:
        """The attempt's books (quota/books.py), then its ticket given back; `tokens`: it answered
        (with a `failure`: its stream broke after part of its answer), ending the call."""
        now = self.chooser.clock()
        account_id = chosen.admitted.account.id
        call = chosen.call  # the target that served, on a route
        entry = books.Entry(
            user_id=call.user_id,
            api_key_id=call.api_key_id,
            route=call.route.name if call.route else None,
            platform=call.platform,
            model=call.model,
            admitted=chosen.admitted,
            tokens=tokens,
            failure=failure,
            clear_cooldown=chosen.clear_cooldown,
            clear_exhaustion=chosen.clear_exhaustion,
            touch_last_used=tokens is not None and self._last_used.due(account_id, now),
            now=now,
            budget_holds=call.budget_holds if tokens is not None else (),
            log=trace.ended(tokens, failure),
        )
        try:
            await self.books.write(entry)
        finally:
            await self.admission.leave(chosen.admitted)
        await self.failover.budgets.settled(call.user_id, entry.budget_holds)

    async def count_prompt(self, call: ChatCall) -> int:
        """The call's prompt tokens as counted here (the platform is not asked)."""
        provider = call.platform.litellm_config.get("provider")
        return (await self._estimate(call, f"{provider}/{call.model}", "")).prompt_tokens

    async def _estimate(self, call: ChatCall, model: str, completion: str) -> TokenUsage:
        """Count tokens locally when the platform reported none."""
        return await token_count.count(self.llm, model, call.messages, completion)


def _passed(params: dict[str, Any]) -> dict[str, Any]:
    return {"user": params["user"]} if "user" in params else {}
