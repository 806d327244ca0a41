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

from app.api import health, metrics
from app.api.errors import install_error_handlers
from app.api.middleware import (
    BodySizeLimitMiddleware,
    RequestIdMiddleware,
    SecurityHeadersMiddleware,
)
from app.api.v1.router import api_router
from app.core.config import BACKEND_DIR, Settings, get_settings
from app.core.crypto import CredentialCipher
from app.core.database import create_engine, create_session_factory
from app.core.logging import configure_logging
from app.core.metrics import HttpMetricsMiddleware
from app.core.rate_limit import RateLimiter
from app.core.security import TokenService
from app.services.background import BackgroundJobs
from app.services.oauth.context import OAuthContext
from app.services.oauth.credential_store import CredentialStore
from app.services.oauth.token_lifecycle import CredentialRenewer


def migration_head() -> str | None:
    script = ScriptDirectory.from_config(Config(str(BACKEND_DIR / "alembic.ini")))
    return script.get_current_head()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    # Fail at start-up, not on the first request, when the keys are unusable.
    assert settings.credential_keys is not None, "credential keys are required"
    store = CredentialStore(CredentialCipher.from_spec(settings.credential_keys.get_secret_value()))
    tokens = TokenService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.effective_database_url, pool_size=settings.database_pool_size
        )
        app.state.engine = engine
        app.state.session_factory = create_session_factory(engine)
        app.state.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        # One pooled client for every outbound request to platforms and OAuth servers.
        app.state.http = httpx.AsyncClient(timeout=settings.outbound_timeout)
        app.state.oauth = OAuthContext(
            settings=settings,
            factory=app.state.session_factory,
            store=store,
            http=app.state.http,
            renewer=CredentialRenewer(settings, app.state.session_factory, store, app.state.http),
        )
        jobs = BackgroundJobs(app.state.oauth)
        if settings.background_jobs:
            jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await app.state.http.aclose()
            if app.state.redis is not None:
                await app.state.redis.aclose()
            await engine.dispose()

    app = FastAPI(
        title="OAuth Proxy",
        version="0.1.0",
        description="Bind your own AI platform accounts and call them through one API.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tokens = tokens
    app.state.credential_store = store
    app.state.limiter = RateLimiter(settings.redis_url)
    app.state.migration_head = migration_head()
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(api_router)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HttpMetricsMiddleware)
    app.add_middleware(RequestIdMiddleware)
    return app


def __getattr__(name: str) -> FastAPI:
    # `app.main:app` is built on first access, so importing this module has no side effects.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
