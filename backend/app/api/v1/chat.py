"""The seed's call route: POST /api/v1/oauth/chat/completions, the answer in the envelope.

With `"stream": true` the answer is OpenAI's `chat.completion.chunk` events ending in
`data: [DONE]` (an event stream has no envelope). API key or JWT.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from app.api.deps import AppDep, ModelCaller
from app.api.openai_v1 import SSE_HEADERS, STREAMED_ANSWER, CacheControl, cache_headers
from app.schemas.chat import ChatCompletionOut, SeedChatRequest
from app.schemas.common import Envelope

router = APIRouter(prefix="/oauth", tags=["oauth"])


@router.post(
    "/chat/completions",
    response_model=Envelope[ChatCompletionOut],
    responses=STREAMED_ANSWER,
    summary="Call a model with your accounts (fails over between them)",
)
async def chat_completions(
    body: SeedChatRequest, caller: ModelCaller, ctx: AppDep, cache_control: CacheControl = None
) -> Response:
    proxy = ctx.call_path
    call = await proxy.prepare(
        caller.id, body, platform_id=body.platform, cache_control=cache_control
    )
    if body.stream:
        events = await proxy.open_stream(call)
        return StreamingResponse(events, media_type="text/event-stream", headers=SSE_HEADERS)
    answer = await proxy.answer(call)
    envelope = {"code": 200, "message": "success", "data": answer.body}
    return Response(
        orjson.dumps(envelope), media_type="application/json", headers=cache_headers(answer)
    )
