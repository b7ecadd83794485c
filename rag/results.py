"""The typed results every interface shares: the CLI's JSON, the API's responses, the evaluation
and answer generation all read these models. Absent optional fields are left out of the JSON
(an answer is `null` when the system abstains)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import (
    BaseModel,
    Field,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)


class Result(BaseModel):
    """Base: None-valued fields are omitted on output, except those named in `keep_null`."""

    keep_null: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler):  # no return type: the JSON schema stays the fields'
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k in self.keep_null}


class Citation(Result):
    rank: int = Field(description="1-based position in the list")
    title: str = Field(description="the article's headline (or, without one, its first sentence), in the reader's script")
    source: str | None = Field(default=None, description="where the article was published, when it says")
    date: str | None = Field(default=None, description="when it was published, YYYY-MM-DD, when it says")
    doc_id: str
    chunk_id: str
    start: int = Field(description="offset of the passage in the original file: the one range a citation has")
    end: int = Field(description="original_file_text[start:end] == text")
    text: str = Field(description="the passage exactly as in the file")
    display_text: str = Field(description="the passage without PDF artefacts, in the reader's script")
    score: float = Field(description="the ranking score of the method that found it")


class SearchResult(Result):
    query: str
    script: str = Field(description="the reader's script: en, zh-Hans or zh-Hant")
    results: list[Citation]


class AnswerSource(Result):
    """Where the quoted answer sentence stands: its citation and its exact original offsets."""

    citation: int
    doc_id: str
    start: int
    end: int


class AnswerSpan(Result):
    """The short answer inside the quoted sentence: the count with its unit, the date, the name."""

    text: str = Field(description="as it reads in the answer, in the reader's script")
    start: int = Field(description="offset in the original file")
    end: int = Field(description="original_file_text[start:end] is the span as written")


class Evidence(Result):
    """The signals an answer's confidence was judged on (rag/answering/abstention.py)."""

    standout: float = Field(description="z-score of the best cosine against typical passages")
    support: float = Field(description="weighted share of the question's subject words in the cited passage")
    unknown_names: list[str] = Field(default_factory=list, description="names of a Chinese question no passage contains")
    unmatched_words: list[str] = Field(default_factory=list, description="subject words of an English question that reach no corpus word")
    by_terms: bool = Field(default=True, exclude=True)  # is support trustworthy? Not for English: it reaches Chinese only by dictionary
    unmatched_share: float = Field(default=0.0, exclude=True)  # unmatched words' share of the subject words
    confidence: float | None = Field(default=None, description="the reader's probability that the passages answer the question; it answers from its trained threshold up")

    @field_serializer("standout", "support", "confidence")
    def _rounded(self, value: float | None) -> float | None:
        return None if value is None else round(value, 3)


class Generation(Result):
    mode: Literal["extractive", "llm"]
    model: str | None = None
    note: str | None = Field(default=None, description="why the language model's answer was not used")


class AskResult(Result):
    keep_null: ClassVar[frozenset[str]] = frozenset({"answer"})

    question: str
    answer: str | None = Field(description="the quoted sentence with its citation number, or null when abstaining")
    answer_span: AnswerSpan | None = Field(default=None, description="the short answer inside the quoted sentence, when the reader finds one")
    abstained: bool
    script: str = Field(description="the reader's script: en, zh-Hans or zh-Hant")
    citations: list[Citation] = Field(description="the passages the answer rests on; empty when abstaining")
    closest_passages: list[Citation] | None = Field(default=None, description="when abstaining: the passages that came closest, which do not answer the question")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    answer_source: AnswerSource | None = None
    evidence: Evidence | None = None
    message: str | None = Field(default=None, description="why there is no answer")
    generation: Generation | None = None
    extractive_answer: str | None = Field(default=None, description="the quoted answer, when a language model wrote `answer`")
