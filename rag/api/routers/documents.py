"""`/v1/documents`: list, add or replace, and delete documents; writes need the API key (rag/api/access.py)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from rag.api.backend import BackendDep
from rag.api.routers.content_type import require_json
from rag.api.schemas import (
    DocumentDeleted,
    DocumentList,
    DocumentRequest,
    DocumentWritten,
)

router = APIRouter(prefix="/v1/documents", tags=["documents"])


@router.get("", response_model=DocumentList)
def list_documents(backend: BackendDep) -> DocumentList:
    return backend.documents()


@router.post(
    "",
    status_code=201,
    response_model=DocumentWritten,
    responses={200: {"model": DocumentWritten, "description": "replaced an existing document"}},
    dependencies=[Depends(require_json)],
)
def add_document(body: DocumentRequest, backend: BackendDep) -> JSONResponse:
    """Adds the document (201), or replaces the one with this id (200); answers once the index includes it."""
    result = backend.add_document(body.id, body.text)
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.replaced else 201)


@router.delete("/{doc_id}", response_model=DocumentDeleted)
def delete_document(doc_id: str, backend: BackendDep) -> DocumentDeleted:
    return backend.remove_document(doc_id)
