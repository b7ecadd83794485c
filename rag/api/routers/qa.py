"""`/v1/ask`, `/v1/search` and `/v1/passage`: the CLI's JSON over HTTP, plus cited spans in context."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Query

from rag.api import examples
from rag.api.backend import BackendDep
from rag.api.routers.content_type import require_json
from rag.api.schemas import K_DOC, QUESTION_DOC, AskRequest, Passage
from rag.results import AskResult, SearchResult

router = APIRouter(prefix="/v1", tags=["questions"])


@router.post(
    "/ask",
    response_model=AskResult,
    dependencies=[Depends(require_json)],
    summary="Answer a question, with citations",
    description=(
        "Ask in English, Simplified or Traditional Chinese. The answer is a sentence quoted from the news, "
        "shown in your script, with numbered citations: each gives the article's title, source and date and "
        "the exact character range of the passage in its file. When the news does not answer the question "
        "the system abstains: `answer` is null and `message` says why. Same JSON as `rag ask --json`."
    ),
    responses=examples.responses("ask", declare=(400, 415, 422)),
)
async def ask(body: Annotated[AskRequest, Body(openapi_examples=examples.ASK)], backend: BackendDep) -> AskResult:
    return await backend.ask(body.question, body.k)


@router.get(
    "/search",
    response_model=SearchResult,
    summary="Find the passages that match a query",
    description=(
        "The passages most relevant to a query in English, Simplified or Traditional Chinese, best first, without an answer: what `/v1/ask` cites, for a search box. Same JSON as `rag search --json`."
    ),
    responses=examples.responses("search", declare=(422,)),
)
async def search(
    backend: BackendDep,
    q: Annotated[str, Query(description=QUESTION_DOC, openapi_examples=examples.SEARCH_Q)],
    k: Annotated[int, Query(description=K_DOC, openapi_examples=examples.SEARCH_K)] = 5,
) -> SearchResult:
    return await backend.search(q, k)


@router.get(
    "/passage",
    response_model=Passage,
    summary="Show a cited passage in context",
    description=(
        "The span `start:end` of a document (a citation's `doc_id`, `start` and `end`) with up to `context` "
        "characters either side, converted to the reader's `script`: how a client shows a citation in its article."
    ),
    responses=examples.responses("passage", declare=(422,)),
)
def passage(
    backend: BackendDep,
    doc_id: Annotated[str, Query(description="the document, as a citation names it", openapi_examples=examples.PASSAGE_DOC_ID)],
    start: Annotated[int, Query(ge=0, description="where the span starts in the original file", openapi_examples=examples.PASSAGE_START)],
    end: Annotated[int, Query(ge=1, description="where it ends (exclusive)", openapi_examples=examples.PASSAGE_END)],
    script: Annotated[Literal["", "en", "zh-Hans", "zh-Hant"], Query(description="en, zh-Hans or zh-Hant; empty: the span's own script", openapi_examples=examples.PASSAGE_SCRIPT)] = "",
    context: Annotated[int, Query(ge=0, le=2000, description="characters shown either side of the span", openapi_examples=examples.PASSAGE_CONTEXT)] = 200,
) -> Passage:
    return backend.passage(doc_id, start, end, script, context)
