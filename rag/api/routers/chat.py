"""`POST /v1/chat/completions`, OpenAI-compatible, streaming or not. The last user message is the
question, a follow-up resolved against the earlier ones (rag/analysis/followup.py); the citations
travel with the answer in both modes: on the message, and on the final stream chunk."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends
from fastapi.responses import StreamingResponse

from rag.analysis.followup import standalone_question
from rag.api import examples
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
    responses=examples.responses(
        "chat_completions",
        {200: {"content": {"text/event-stream": {}}, "description": "a completion, or server-sent events with `stream: true`"}},
        declare=(400, 415, 422),
    ),
    dependencies=[Depends(require_json)],
    summary="Chat (OpenAI-compatible), with citations",
    description=(
        "OpenAI's chat completions API, for the official `openai` client and chat front ends. The last user "
        "message is the question; a follow-up such as “海口呢？” (“and Haikou?”) is resolved against the earlier "
        "user messages, and the reply's `resolved_question` shows the question answered. The answer's citations "
        "come on the message and at the top level, or on the last event of a stream (`stream: true`). "
        "Sampling options are accepted and ignored."
    ),
)
async def chat_completions(body: Annotated[ChatRequest, Body(openapi_examples=examples.CHAT)], backend: BackendDep) -> ChatCompletion | StreamingResponse:
    asked = body.user_questions()
    if not asked or not asked[-1].strip():
        raise ApiError(422, "the last user message is empty (or there is no user message): send a question")
    question = standalone_question(asked)
    resolved = question if question != asked[-1] else None
    reply = Reply(await backend.ask(question, body.k), body.model or SERVED_MODEL_NAME, resolved)
    if body.stream:
        return StreamingResponse(reply.events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    return reply.completion()


class Reply:
    def __init__(self, result: AskResult, model: str, resolved_question: str | None = None):
        self.extras, self.model = AnswerExtras.of(result, resolved_question), model
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
