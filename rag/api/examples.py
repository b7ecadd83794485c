"""The examples /docs and /openapi.json show: one place for what each endpoint is sent and answers.

Request examples are written here. Response examples are never written by hand: they are what the
API answered those requests over the repository's corpus, recorded in `examples.json` beside this
file by

    python -m rag.api.record_examples --write     # from the repository root; --check only compares

which serves a temporary copy of the corpus and its index (the repository's own are never
written), sends every request below through the app, and keeps the bodies (long citation lists
cut to two, as their descriptions say). tests/e2e/test_api_docs.py fails when an answer shown here
is no longer what the engine answers.
"""

from __future__ import annotations

import copy
import json
from importlib.resources import files
from typing import Any

from fastapi.openapi.models import Example
from pydantic import BaseModel, Field

EXAMPLES_FILE = "examples.json"
KEPT_CITATIONS = 2  # citation lists are cut to this many in response examples, for brevity


class ErrorDetail(BaseModel):
    message: str = Field(description="what went wrong and what to send instead, for people")
    type: str = Field(description="invalid_request_error, authentication_error, not_found, service_unavailable, ...")
    code: int = Field(description="the HTTP status")


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx body, in OpenAI's shape, so the official clients raise a readable exception."""

    error: ErrorDetail


# What a status means to a caller of this API (the OpenAPI description of each error response).
STATUS_TEXT = {
    400: "The body is not valid JSON.",
    401: "The API key is missing or wrong.",
    403: "Document writes are disabled: the server was started without an API key.",
    404: "No such document.",
    415: "The body is not sent as `application/json`.",
    422: "The request is not valid: the message says which value and what to send instead.",
    503: "The index is still loading (or failed to load), or the question queue is full: retry later.",
}


def value_of(example: Example) -> Any:
    """An example's value (typed `Any`, not the TypedDict's `Any | None`)."""
    return example.get("value")


# ---- request examples ---------------------------------------------------------------------------

ASK: dict[str, Example] = {
    "english": Example(
        summary="English question",
        description="Asked in English, answered from the Chinese articles: the quoted sentence stays as written, in Simplified characters.",
        value={"question": "How many projects were signed in Changsha?"},
    ),
    "simplified": Example(summary="Simplified Chinese question", description="Answered in Simplified characters.", value={"question": "长沙签约了多少个项目？"}),
    "traditional": Example(
        summary="Traditional Chinese question",
        description="Answered in Traditional characters, whatever script the article is written in.",
        value={"question": "長沙簽約了多少個重點產業轉移合作項目？"},
    ),
    "unanswerable": Example(
        summary="A question the news does not answer",
        description="The system abstains: `answer` is null, `message` says why, `closest_passages` shows what came closest.",
        value={"question": "What is the weather in Paris tomorrow?"},
    ),
    "fewer_citations": Example(
        summary="Fewer citations (k)",
        description="`k` is the number of citations, 1 to 50 (default 5).",
        value={"question": "How much has Hong Kong invested in Hunan?", "k": 2},
    ),
}

FOLLOW_UP = [
    {"role": "user", "content": "長沙簽約了多少個重點產業轉移合作項目？"},
    {"role": "assistant", "content": "3月29日，2025中國產業轉移發展對接活動(湖南)開幕式上，16個重點產業轉移合作項目現場簽約。 [1]"},
    {"role": "user", "content": "海口呢？"},
]

CHAT: dict[str, Example] = {
    "english": Example(
        summary="English question",
        description="The last user message is the question.",
        value={"model": "rag", "messages": [{"role": "user", "content": "How much has Hong Kong invested in Hunan?"}]},
    ),
    "follow_up": Example(
        summary="Follow-up (Traditional Chinese)",
        description="“海口呢？” (“And Haikou?”) is resolved against the conversation; the reply's `resolved_question` shows the question answered.",
        value={"model": "rag", "messages": FOLLOW_UP},
    ),
    "simplified": Example(summary="Simplified Chinese question", value={"model": "rag", "messages": [{"role": "user", "content": "长沙签约了多少个项目？"}]}),
    "stream": Example(
        summary="Streamed (server-sent events)",
        description="`stream: true` answers with `text/event-stream`: content deltas, then a final chunk carrying the citations, then `data: [DONE]`.",
        value={"model": "rag", "messages": [{"role": "user", "content": "长沙签约了多少个项目？"}], "stream": True, "k": 1},
    ),
}

CHINESE_ARTICLE = """---
title: 2025中国产业转移发展对接活动在长沙开幕
source: 湖南日报
date: 2025-03-29
---

3月29日，2025中国产业转移发展对接活动(湖南)在长沙开幕，这是湖南首次举办国家级产业转移对接活动。开幕式上，16个重点产业转移合作项目现场签约，涵盖高端装备、电子信息、先进材料、航空航天等领域。
"""

ENGLISH_ARTICLE = """# Hunan and Hong Kong hold investment talks

On 14 May a Hunan–Hong Kong investment and financing conference was held in Hong Kong.
Hong Kong has invested 24.1 billion US dollars in Hunan, 67% of the foreign investment Hunan
uses, and trade between the two has exceeded 50 billion yuan a year for six years.
"""

DOCUMENTS: dict[str, Example] = {
    "chinese": Example(
        summary="Chinese article with front matter",
        description="The `---` block gives the title, source and date citations show; it is metadata, never cited.",
        value={"id": "changsha-opening.md", "text": CHINESE_ARTICLE},
    ),
    "english": Example(summary="English-titled article", description="Without front matter the Markdown `#` title is the headline.", value={"id": "hunan-hong-kong-talks.md", "text": ENGLISH_ARTICLE}),
}

SEARCH_Q: dict[str, Example] = {
    "english": Example(summary="English", value="Hong Kong investment in Hunan"),
    "simplified": Example(summary="Simplified Chinese", value="港洽周 开幕"),
    "traditional": Example(summary="Traditional Chinese", value="香港在湘投資"),
}
SEARCH_K: dict[str, Example] = {"three": Example(summary="3 passages", value=3), "default": Example(summary="5 passages (the default)", value=5)}
SEARCH_SHOWN_K = 3  # the k of the search response examples

DELETE_ID: dict[str, Example] = {name: Example(summary=example.get("summary"), value=value_of(example)["id"]) for name, example in DOCUMENTS.items()}

PASSAGE_SCRIPT: dict[str, Example] = {
    "simplified": Example(summary="Simplified Chinese", value="zh-Hans"),
    "traditional": Example(summary="Traditional Chinese", value="zh-Hant"),
    "english": Example(summary="An English reader (the Chinese text in Simplified characters)", value="en"),
    "as_written": Example(summary="The script of the span itself (empty)", value=""),
}
PASSAGE_CONTEXT: dict[str, Example] = {"short": Example(summary="40 characters either side", value=40), "default": Example(summary="200 characters (the default)", value=200)}
PASSAGE_FROM = ("ask", "simplified")  # the passage examples open the first citation of this answer


# ---- response examples, from examples.json ------------------------------------------------------


def load() -> dict[str, Any]:
    """The recorded responses: {"responses": {operation: {status: {media type: {name: example}}}}, "passage": {...}}.
    Empty when the file is missing (the docs then show schemas only; the tests fail)."""
    resource = files("rag.api").joinpath(EXAMPLES_FILE)
    return json.loads(resource.read_text(encoding="utf-8")) if resource.is_file() else {}


RECORDED = load()


def _passage_param(field: str, label: str) -> dict[str, Example]:
    span = RECORDED.get("passage", {})
    return {"cited": Example(summary=label, value=span[field])} if field in span else {}


PASSAGE_DOC_ID = _passage_param("doc_id", "the document of the first citation of “长沙签约了多少个项目？”")
PASSAGE_START = _passage_param("start", "where that citation starts")
PASSAGE_END = _passage_param("end", "where it ends")


def responses(operation: str, extra: dict[int | str, dict[str, Any]] | None = None, declare: tuple[int, ...] = ()) -> dict[int | str, dict[str, Any]]:
    """FastAPI's `responses=` for `operation`: its recorded examples, under each status and media
    type; error statuses described and typed as `ErrorResponse` unless `extra` gives their model;
    `declare` adds error statuses that have no recorded example."""
    out: dict[int | str, dict[str, Any]] = {int(status): copy.deepcopy(entry) for status, entry in (extra or {}).items()}
    recorded = RECORDED.get("responses", {}).get(operation, {})
    for status in sorted({int(s) for s in recorded} | set(declare)):
        entry = out.setdefault(status, {})
        for media_type, examples in recorded.get(str(status), {}).items():
            entry.setdefault("content", {}).setdefault(media_type, {})["examples"] = examples
        if status >= 400 and "model" not in entry:
            entry["model"] = ErrorResponse
            entry.setdefault("description", STATUS_TEXT.get(status, "error"))
    return out
