"""`/v1/ask`, `/v1/search` and `/v1/passage`: the CLI's JSON over HTTP, plus cited spans in context."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from rag.api.auth import require_reader
from rag.api.backend import Backend, get_backend
from rag.api.routers.content_type import require_json
from rag.api.schemas import AskRequest
from rag.service import MAX_K, MAX_QUESTION

router = APIRouter(prefix="/v1", tags=["questions"], dependencies=[Depends(require_reader)])
BackendDep = Annotated[Backend, Depends(get_backend)]


@router.post("/ask", dependencies=[Depends(require_json)])
def ask(body: AskRequest, backend: BackendDep) -> dict:
    return backend.ask(body.question, body.k)


@router.get("/search")
def search(
    backend: BackendDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION)],
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 5,
) -> dict:
    return backend.search(q, k)


@router.get("/passage")
def passage(
    backend: BackendDep,
    doc_id: str,
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
    script: str = "",
    context: Annotated[int, Query(ge=0, le=2000)] = 200,
) -> dict:
    return backend.passage(doc_id, start, end, script, context)
