"""The API contract: request bodies the service accepts (responses are the engine's JSON)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.corpus import MAX_FILE_BYTES
from rag.service import MAX_K, MAX_QUESTION

MAX_DOCUMENT_CHARS = MAX_FILE_BYTES // 4  # a UTF-8 CJK character takes 3 bytes; stay within the file limit


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=MAX_QUESTION)
    k: int | None = Field(default=None, ge=1, le=MAX_K)

    @field_validator("question")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class DocumentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, description="file name ending in .txt or .md")
    text: str = Field(min_length=1, max_length=MAX_DOCUMENT_CHARS)


class TextPart(BaseModel):
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's chat request; sampling options are accepted and ignored (answers are quoted, or
    written by the configured model at temperature 0)."""

    model_config = ConfigDict(extra="allow")

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    k: int | None = Field(default=None, ge=1, le=MAX_K)

    def question(self) -> str:
        for message in reversed(self.messages):
            if message.role == "user":
                return message.text()
        return ""
