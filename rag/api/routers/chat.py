"""`POST /v1/chat/completions`, OpenAI-compatible, streaming or not. The last user message is the
question; the citations travel with the answer in both modes: on the message, and on the final
stream chunk."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from rag.api.backend import BackendDep
from rag.api.errors import ApiError
from rag.api.routers.content_type import require_json
from rag.api.schemas import (
    AnswerExtras,
    ChatCompletion,
    ChatRequest,
    CompletionChoice,
    CompletionMessage,
)
from rag.results import AskResult

router = APIRouter(prefix="/v1", tags=["chat"])
SERVED_MODEL_NAME = "rag"  # the `model` a reply names when the request named none
PIECE = 12  # characters per streamed content delta


@router.post(
    "/chat/completions",
    response_model=ChatCompletion,
    responses={200: {"content": {"text/event-stream": {}}, "description": "a completion, or server-sent events with `stream: true`"}},
    dependencies=[Depends(require_json)],
)
async def chat_completions(body: ChatRequest, backend: BackendDep) -> ChatCompletion | StreamingResponse:
    question = body.question()
    if not question.strip():
        raise ApiError(422, "the last user message is empty (or there is no user message)")
    reply = Reply(await backend.ask(question, body.k), body.model or SERVED_MODEL_NAME)
    if body.stream:
        return StreamingResponse(reply.events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    return reply.completion()


class Reply:
    def __init__(self, result: AskResult, model: str):
        self.extras, self.model = AnswerExtras.of(result), model
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        self.content = (result.answer if not result.abstained else result.message) or ""

    def completion(self) -> ChatCompletion:
        extras = dict(self.extras)
        message = CompletionMessage(content=self.content, **extras)
        return ChatCompletion(id=self.id, created=self.created, model=self.model, choices=[CompletionChoice(message=message)], **extras)

    def events(self) -> Iterator[str]:
        yield self._event({"role": "assistant", "content": ""}, None)
        for i in range(0, len(self.content), PIECE):
            yield self._event({"content": self.content[i : i + PIECE]}, None)
        yield self._event({}, "stop", **self.extras.model_dump(mode="json"))
        yield "data: [DONE]\n\n"

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def _event(self, delta: dict[str, Any], finish: str | None, **extra: Any) -> str:
        chunk = {**self._envelope("chat.completion.chunk"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
