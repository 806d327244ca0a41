"""Browser-login sessions: the code the page asks for, its screenshot, and the live view."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from typing import Annotated

from fastapi import APIRouter, Path, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.api.deps import AppDep, CurrentUser, SessionDep, app_context
from app.core.database import session_scope
from app.core.errors import AppError
from app.core.security import InvalidToken
from app.models import AuthorizationSession
from app.schemas.common import Envelope, ok
from app.services import users
from app.services.oauth import browser_sessions
from app.services.oauth.browser_automation import LiveFrame

router = APIRouter(prefix="/oauth", tags=["oauth"])

State = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
AUTH_TIMEOUT_S = 10


class CodeInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, description="the SMS or e-mail code")


class Accepted(BaseModel):
    accepted: bool = True


@router.post(
    "/sessions/{state}/input",
    response_model=Envelope[Accepted],
    summary="Give a browser login the code the page asks for",
)
async def give_input(
    state: State, body: CodeInput, session: SessionDep, ctx: AppDep, user: CurrentUser
) -> Envelope[Accepted]:
    await browser_sessions.submit_input(ctx, session, user, state, body.code.strip())
    return ok(Accepted())


@router.get(
    "/sessions/{state}/screenshot",
    response_class=Response,
    responses={200: {"description": "The page (PNG)", "content": {"image/png": {}}}},
    summary="The page when the login asked the user to act (PNG)",
)
async def get_screenshot(
    state: State, session: SessionDep, ctx: AppDep, user: CurrentUser
) -> Response:
    png = await browser_sessions.screenshot(ctx, session, user, state)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.websocket("/sessions/{state}/live")
async def live_view(websocket: WebSocket, state: str) -> None:
    """The login page, live. The first message must be `{"type": "auth", "token": "<bearer>"}`
    (a browser cannot set headers on a WebSocket, and a token in the URL would be logged).
    Then: frames `{"type": "frame", "jpeg": base64, "width", "height"}` out; input events
    (`click`, `key`, `text`, `scroll`, …) in."""
    await websocket.accept()
    ctx = app_context(websocket.app)
    try:
        first = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
        subject = await ctx.tokens.verify(str(first.get("token", "")))
        async with session_scope(ctx.factory) as session:
            user = await users.resolve_subject(session, subject, provision=False)
            row = await session.get(AuthorizationSession, state)
    except (TimeoutError, InvalidToken, AppError, ValueError, AttributeError):
        await websocket.close(code=4401, reason="authentication failed")
        return
    if row is None or row.user_id != user.id or row.method != "browser":
        await websocket.close(code=4404, reason="no such browser login")
        return
    handle = ctx.browser_logins.handle(state)
    if handle is None:
        await websocket.close(code=4409, reason="the login has ended or runs on another worker")
        return

    async def send_frame(frame: LiveFrame) -> None:
        await websocket.send_json(
            {
                "type": "frame",
                "jpeg": base64.b64encode(frame.jpeg).decode(),
                "width": frame.width,
                "height": frame.height,
            }
        )

    view = await handle.attach_live_view(send_frame)
    try:
        while not handle.done:
            try:
                event = await asyncio.wait_for(websocket.receive_json(), 1.0)
            except TimeoutError:
                continue
            try:
                await view.send(event)
            except ValidationError:
                await websocket.send_json({"type": "error", "message": "unknown input event"})
    except WebSocketDisconnect:
        pass
    finally:
        await view.close()
        with contextlib.suppress(RuntimeError):
            await websocket.close()
