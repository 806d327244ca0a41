"""What every surface does first: its request, translated to an OpenAI chat body, made into the
call path's chat call (its platform and model resolved, the body checked as chat requests are)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from app.core.errors import BadRequest
from app.schemas.chat import ChatCompletionRequest
from app.services.calls.call_path import CallPath
from app.services.calls.choosing import ChatCall


async def prepare(proxy: CallPath, user_id: int, body: dict[str, Any]) -> ChatCall:
    try:
        request = ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise BadRequest(f"Invalid request: {where}: {error.get('msg', 'invalid')}") from exc
    return await proxy.prepare(user_id, request)


def speaks(call: ChatCall, provider: str) -> bool:
    """Whether the call's platform speaks the API of litellm's `provider` (then it gets the
    request as it is)."""
    return call.platform.litellm_config.get("provider") == provider
