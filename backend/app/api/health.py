"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable and its schema is current")
async def readyz(request: Request) -> JSONResponse:
    expected = request.app.state.migration_head
    try:
        async with request.app.state.engine.connect() as connection:
            current = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # any database failure means "not ready", never a 500
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != expected:
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "migrations pending",
                "schema": current,
                "expected": expected,
            },
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": current})
