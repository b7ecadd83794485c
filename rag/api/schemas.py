"""The API contract beyond the shared results (rag/results.py): request bodies, and the responses
of the document, passage and health endpoints. A question and its `k` are checked once, by the
engine (rag/analysis/question.py), whichever endpoint they come through."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.ingest.corpus import MAX_FILE_BYTES
from rag.results import AnswerSource, AnswerSpan, AskResult, Citation, Generation, Result
from rag.settings import MAX_K, MAX_QUESTION_CHARS

MAX_DOCUMENT_CHARS = MAX_FILE_BYTES // 4  # a UTF-8 CJK character takes 3 bytes; stay within the file limit
QUESTION_DOC = f"a question in English, Simplified or Traditional Chinese (at most {MAX_QUESTION_CHARS} characters)"
FOLLOW_UP_DEPTH = 8  # user messages a follow-up is resolved against: a chain of "and in …?" is rarely longer
K_DOC = f"number of citations, 1 to {MAX_K} (default 5)"


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description=QUESTION_DOC)
    k: int | None = Field(default=None, description=K_DOC)


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
    written by the configured model at temperature 0). The last user message is the question; the
    earlier ones are the context a follow-up such as "and in Hengyang?" is resolved against."""

    model_config = ConfigDict(extra="allow")

    messages: list[ChatMessage] = Field(min_length=1)
    model: str | None = None
    stream: bool = False
    k: int | None = Field(default=None, description=K_DOC)

    def user_questions(self) -> list[str]:
        """The conversation's user messages, the last `FOLLOW_UP_DEPTH`: its questions, the last asked now."""
        return [m.text() for m in self.messages if m.role == "user"][-FOLLOW_UP_DEPTH:]


class Passage(BaseModel):
    doc_id: str
    start: int
    end: int
    before: str = Field(description="up to `context` characters before the span, in the reader's script")
    text: str = Field(description="the span, in the reader's script")
    after: str


class DocumentInfo(BaseModel):
    id: str
    title: str = Field(description="the headline as written (front matter `title`, a Markdown title, the first headline-like line, or else the first sentence)")
    source: str | None = None
    date: str | None = Field(default=None, description="YYYY-MM-DD")
    chars: int
    chunks: int
    sha256: str | None
    notes: list[str] = Field(default_factory=list, description="what reading the file repaired (undecodable bytes)")


class SkippedFile(BaseModel):
    id: str
    reason: str = Field(description="why the file is not searchable: binary, a symbolic link, an unknown encoding, too large")


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    skipped: list[SkippedFile] = Field(default_factory=list, description="files of the corpus folder that are not indexed")


class DocumentWritten(BaseModel):
    id: str
    sha256: str
    chars: int
    chunks: int
    documents: int = Field(description="documents in the index now")
    replaced: bool = Field(description="an earlier document with this id was replaced")


class DocumentDeleted(BaseModel):
    id: str
    deleted: bool
    documents: int


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "loading", "failed"]
    error: str | None = None
    reload_error: str | None = Field(default=None, description="still serving the previous index, because of this")
    documents: int | None = None
    chunks: int | None = None
    store: Literal["local", "milvus"] | None = Field(default=None, description="where vectors and postings are searched: local files, or Milvus (RAG_STORE)")
    skipped: list[SkippedFile] | None = None


class AnswerExtras(Result):
    """What a chat client needs to show and check an answer, beyond its text."""

    citations: list[Citation]
    closest_passages: list[Citation] | None = None
    abstained: bool
    answer_span: AnswerSpan | None = None
    answer_source: AnswerSource | None = None
    script: str
    generation: Generation | None = None
    resolved_question: str | None = Field(default=None, description="the question as answered, when the last message was a follow-up resolved against the conversation")

    @classmethod
    def of(cls, result: AskResult, resolved_question: str | None = None) -> AnswerExtras:
        fields = ("citations", "closest_passages", "abstained", "answer_span", "answer_source", "script", "generation")
        return cls(**{name: getattr(result, name) for name in fields}, resolved_question=resolved_question)


class CompletionMessage(AnswerExtras):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: CompletionMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(AnswerExtras):
    """OpenAI's chat completion, with the answer's citations on the message and at the top level."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[CompletionChoice]
    usage: Usage = Field(default_factory=Usage)
