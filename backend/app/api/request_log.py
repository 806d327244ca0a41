"""The request log's middleware: a trace for each POST (services/request_log/trace.py), and once
it is answered the row of a model call that no books wrote (refused, every attempt failed,
served from the answer cache), queued with the books (quota/books.py). Pure ASGI: it must not
buffer streamed answers."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import app_context
from app.services.request_log.trace import TRACE, CallTrace

logger = logging.getLogger(__name__)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        trace = CallTrace(scope["path"], scope)
        token = TRACE.set(trace)
        status = [500]  # what an exception that escapes every handler becomes

        async def noting_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        except Exception:
            await _record(scope, trace, status[0])
            raise
        else:
            await _record(scope, trace, status[0])
        finally:
            TRACE.reset(token)


async def _record(scope: Scope, trace: CallTrace, status: int) -> None:
    if trace.user_id is None or trace.written:
        return
    try:
        await app_context(scope["app"]).call_path.books.write(trace.row(status))
    except Exception:  # the caller has had the answer; a lost log row must not fail it
        logger.exception("the request log's row of a call to %s was not written", trace.surface)
