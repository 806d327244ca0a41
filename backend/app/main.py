"""The application factory: `uvicorn app.main:app` (or gunicorn with uvicorn workers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from redis.asyncio import Redis
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import (
    anthropic_v1,
    docs,
    gemini_v1beta,
    health,
    metrics,
    openai_responses,
    openai_v1,
)
from app.api.errors import install_error_handlers
from app.api.middleware import (
    BodySizeLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from app.api.request_log import RequestLogMiddleware
from app.api.v1.router import api_router
from app.core.cache import Generations
from app.core.collector import start_serving
from app.core.config import BACKEND_DIR, Settings, get_settings
from app.core.crypto import CredentialCipher
from app.core.database import create_engine, create_session_factory
from app.core.inflight import InFlight
from app.core.llm import LLM
from app.core.logging import configure_logging, redact_literally
from app.core.metrics import HttpMetricsMiddleware
from app.core.outbound import OutboundGuard
from app.core.rate_limit import REDIS_TIMEOUTS, RateLimiter
from app.core.security import TokenService
from app.services.alerts import webhook as alert_webhook
from app.services.api_keys import ApiKeyCache
from app.services.background import BackgroundJobs
from app.services.calls.account_cache import CallCache
from app.services.calls.admission import Admission
from app.services.calls.call_path import CallPath
from app.services.context import AppContext
from app.services.demo import retire_demo, start_demo
from app.services.demo.upstream import DemoUpstream
from app.services.oauth.browser_automation import BrowserPool
from app.services.oauth.browser_sessions import BrowserLogins
from app.services.oauth.credential_store import CredentialStore
from app.services.oauth.token_lifecycle import CredentialRenewer
from app.services.quota.allowances import Allowances
from app.web.router import router as web_router


def migration_head() -> str | None:
    script = ScriptDirectory.from_config(Config(str(BACKEND_DIR / "alembic.ini")))
    return script.get_current_head()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if settings.alert_webhook_url:
        redact_literally(settings.alert_webhook_url.get_secret_value())
    # Fail at start-up, not on the first request, when the keys are unusable.
    assert settings.credential_keys is not None, "credential keys are required"
    store = CredentialStore(CredentialCipher.from_spec(settings.credential_keys.get_secret_value()))
    tokens = TokenService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = app.state.context = build_context(settings, store, tokens)
        demo = await start(ctx)
        try:
            yield
        finally:
            await stop(ctx, demo)

    app = FastAPI(
        title="OAuth Proxy",
        version="0.1.0",
        description="Bind your own AI platform accounts and call them through one API.",
        lifespan=lifespan,
        docs_url=None,  # served by app.api.docs from local files
        redoc_url=None,
    )
    install_error_handlers(app)
    # Routes are matched in order: the model calls, the hot path, come first.
    app.include_router(openai_v1.router)
    app.include_router(openai_responses.router)
    app.include_router(anthropic_v1.router)
    app.include_router(gemini_v1beta.router, prefix="/v1beta")
    app.include_router(gemini_v1beta.model_methods, prefix="/v1")
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(docs.router)
    app.include_router(api_router)
    app.include_router(web_router)
    add_middleware(app, settings)
    return app


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """The last added runs first: request ids wrap everything, then metrics, headers, CORS;
    the request log innermost, so a call's latency is the service's own."""
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "X-OAuth-Proxy-Target",
                "X-OAuth-Proxy-Account",
            ],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: the client's address from X-Forwarded-For, only when a trusted proxy sends it.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)


def build_context(settings: Settings, store: CredentialStore, tokens: TokenService) -> AppContext:
    """The application's long-lived parts; nothing connects yet (pools open on first use)."""
    engine = create_engine(settings.effective_database_url, pool_size=settings.database_pool_size)
    redis = Redis.from_url(settings.redis_url, **REDIS_TIMEOUTS) if settings.redis_url else None
    generations = Generations(redis, settings.redis_key_prefix, database=engine)
    factory = create_session_factory(engine, generations)
    # One pooled client for every outbound request to platforms and OAuth servers.
    outbound = OutboundGuard(allow_private=settings.allows_private_outbound)
    http = httpx.AsyncClient(timeout=settings.outbound_timeout, event_hooks=outbound.httpx_hooks())
    # One Chromium per process, started on the first browser login.
    browser_pool = BrowserPool.from_settings(settings)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        factory=factory,
        redis=redis,
        http=http,
        outbound=outbound,
        store=store,
        renewer=CredentialRenewer(settings, factory, store, http, browser_pool),
        tokens=tokens,
        limiter=RateLimiter(settings.redis_url, settings.redis_key_prefix),
        guard_limiter=RateLimiter(settings.redis_url, settings.redis_key_prefix, exact=True),
        api_key_cache=ApiKeyCache(generations, enabled=settings.cache_enabled),
        migration_head=migration_head(),
    )
    ctx.browser_logins = BrowserLogins(ctx, browser_pool)
    admission = Admission(
        CallCache(generations, enabled=settings.cache_enabled),
        InFlight(redis, settings.call_hold_seconds, settings.redis_key_prefix),
        ctx.limiter,
        Allowances(factory, settings.call_hold_seconds, enabled=settings.call_quota_blocks),
    )
    ctx.call_path = CallPath(ctx, LLM(log_level=settings.litellm_log_level), admission)
    ctx.jobs = BackgroundJobs(ctx)
    return ctx


async def start(ctx: AppContext) -> DemoUpstream | None:
    """What runs at start-up; answers the demo platform's upstream when DEMO_MODE runs one."""
    # litellm takes seconds and ~190 MB to import: it loads now, on a background thread, when
    # some platform's calls go through it, else on the first call that needs it.
    if await ctx.call_path.litellm_needed():
        ctx.call_path.llm.start()
    demo = await start_demo(ctx.factory) if ctx.settings.demo_mode else None
    if demo is None:
        await retire_demo(ctx.factory)
    if ctx.settings.background_jobs:
        ctx.jobs.start()
    start_serving()
    return demo


async def stop(ctx: AppContext, demo: DemoUpstream | None) -> None:
    """At shutdown: the users of a resource stop before it closes."""
    await ctx.jobs.stop()
    await ctx.call_path.close()
    await alert_webhook.drain(timeout_s=5)
    await ctx.browser_logins.close()
    await ctx.browser_logins.pool.close()
    if demo is not None:
        await demo.stop()
    await ctx.http.aclose()
    if ctx.redis is not None:
        await ctx.redis.aclose()
    await ctx.engine.dispose()


def __getattr__(name: str) -> FastAPI:
    # `app.main:app` is built on first access, so importing this module has no side effects.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
