"""`/v1/ask`, `/v1/search` and `/v1/passage`: the CLI's JSON over HTTP, plus cited spans in context."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from rag.api.backend import BackendDep
from rag.api.routers.content_type import require_json
from rag.api.schemas import K_DOC, QUESTION_DOC, AskRequest, Passage
from rag.results import AskResult, SearchResult

router = APIRouter(prefix="/v1", tags=["questions"])


@router.post("/ask", response_model=AskResult, dependencies=[Depends(require_json)])
async def ask(body: AskRequest, backend: BackendDep) -> AskResult:
    return await backend.ask(body.question, body.k)


@router.get("/search", response_model=SearchResult)
async def search(backend: BackendDep, q: Annotated[str, Query(description=QUESTION_DOC)], k: Annotated[int, Query(description=K_DOC)] = 5) -> SearchResult:
    return await backend.search(q, k)


@router.get("/passage", response_model=Passage)
def passage(
    backend: BackendDep,
    doc_id: str,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
    script: str = "",
    context: Annotated[int, Query(ge=0, le=2000)] = 200,
) -> Passage:
    return backend.passage(doc_id, start, end, script, context)
