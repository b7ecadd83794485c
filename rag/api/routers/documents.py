"""`/v1/documents`: list, add or replace, and delete documents; writes need the API key (rag/api/access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path
from fastapi.responses import JSONResponse

from rag.api import examples
from rag.api.backend import BackendDep
from rag.api.routers.content_type import require_json
from rag.api.schemas import (
    DocumentDeleted,
    DocumentList,
    DocumentRequest,
    DocumentWritten,
)

router = APIRouter(prefix="/v1/documents", tags=["documents"])
KEY_NOTE = "Needs the API key the server was started with (`RAG_API_KEY`), as `Authorization: Bearer KEY` or `X-API-Key: KEY`."


@router.get(
    "",
    response_model=DocumentList,
    summary="List the documents",
    description=(
        "Every document the answers come from, with its title, source and date, its size in characters and "
        "passages, and what reading the file repaired; `skipped` lists the corpus files that are not searchable, and why."
    ),
    responses=examples.responses("list_documents"),
)
def list_documents(backend: BackendDep) -> DocumentList:
    return backend.documents()


@router.post(
    "",
    status_code=201,
    response_model=DocumentWritten,
    responses=examples.responses("add_document", {200: {"model": DocumentWritten, "description": "replaced an existing document"}}, declare=(400, 403, 415, 422)),
    dependencies=[Depends(require_json)],
    summary="Add or replace a document",
    description=(
        "Adds a `.txt` or `.md` article (201), or replaces the one with this id (200), and answers once questions "
        "can be answered from it. An optional front matter block (`---`, `title:`, `source:`, `date:`, `---`) "
        "gives the title, source and date its citations show; without one they are read from the article's head. " + KEY_NOTE
    ),
)
def add_document(body: Annotated[DocumentRequest, Body(openapi_examples=examples.DOCUMENTS)], backend: BackendDep) -> JSONResponse:
    """Adds the document (201), or replaces the one with this id (200); answers once the index includes it."""
    result = backend.add_document(body.id, body.text)
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.replaced else 201)


@router.delete(
    "/{doc_id}",
    response_model=DocumentDeleted,
    summary="Delete a document",
    description="Removes the document from the corpus and answers once no answer can cite it. " + KEY_NOTE,
    responses=examples.responses("delete_document", declare=(403, 422)),
)
def delete_document(doc_id: Annotated[str, Path(description="the document's id, as listed", openapi_examples=examples.DELETE_ID)], backend: BackendDep) -> DocumentDeleted:
    return backend.remove_document(doc_id)
