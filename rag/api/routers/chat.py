"""`POST /v1/chat/completions`, OpenAI-compatible, streaming or not. The last user message is the
question; the citations travel with the answer in both modes: on the message, and on the final
stream chunk."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from rag.api.auth import require_reader
from rag.api.backend import Backend, get_backend
from rag.api.errors import ApiError
from rag.api.routers.content_type import require_json
from rag.api.schemas import ChatRequest
from rag.service import MAX_QUESTION

router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(require_reader)])
DEFAULT_MODEL = "rag"
PIECE = 12  # characters per streamed content delta


@router.post("/chat/completions", dependencies=[Depends(require_json)])
def chat_completions(body: ChatRequest, backend: Annotated[Backend, Depends(get_backend)]):
    question = body.question()
    if not question.strip():
        raise ApiError(422, "the last user message is empty (or there is no user message)")
    if len(question) > MAX_QUESTION:
        raise ApiError(422, f"the question is longer than {MAX_QUESTION} characters")
    result = backend.ask(question, body.k)
    reply = Reply(result, body.model or DEFAULT_MODEL)
    if body.stream:
        return StreamingResponse(reply.events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    return reply.completion()


class Reply:
    def __init__(self, result: dict, model: str):
        self.result, self.model = result, model
        self.id, self.created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        self.content = result["answer"] if not result["abstained"] else result["message"]

    def extras(self) -> dict:
        """What a chat client needs to show and check the answer, beyond its text."""
        keys = ("citations", "abstained", "answer_source", "script", "generation")
        return {key: self.result[key] for key in keys if key in self.result}

    def completion(self) -> dict:
        message = {"role": "assistant", "content": self.content, **self.extras()}
        return {
            **self._envelope("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **self.extras(),
        }

    def events(self) -> Iterator[str]:
        yield self._event({"role": "assistant", "content": ""}, None)
        for i in range(0, len(self.content), PIECE):
            yield self._event({"content": self.content[i : i + PIECE]}, None)
        yield self._event({}, "stop", **self.extras())
        yield "data: [DONE]\n\n"

    def _envelope(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def _event(self, delta: dict, finish: str | None, **extra) -> str:
        chunk = {**self._envelope("chat.completion.chunk"), "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
