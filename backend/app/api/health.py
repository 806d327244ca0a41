"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import AppDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is ready (Redis, when configured, is reported)")
async def readyz(ctx: AppDep) -> JSONResponse:
    report: dict[str, str | None] = {"status": "ok"}
    try:
        async with ctx.engine.connect() as connection:
            current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # any database failure means "not ready", never a 500
        report["database"] = "unreachable"
    else:
        report["schema"] = current
        report["database"] = "ok" if current == ctx.migration_head else "migrations pending"
    if ctx.redis is not None:
        try:
            await ctx.redis.ping()
            report["redis"] = "ok"
        except Exception:  # the service degrades to in-process state: still ready
            report["redis"] = "unreachable"
            report["status"] = "degraded"
    ready = report["database"] == "ok"
    if not ready:
        report["status"] = "unavailable"
    return JSONResponse(report, status_code=200 if ready else 503)
