"""`/v1/documents`: list, add or replace, and delete documents; writes need the API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from rag.api.auth import require_reader, require_writer
from rag.api.backend import Backend, get_backend
from rag.api.routers.content_type import require_json
from rag.api.schemas import DocumentRequest

router = APIRouter(prefix="/v1/documents", tags=["documents"])
BackendDep = Annotated[Backend, Depends(get_backend)]


@router.get("", dependencies=[Depends(require_reader)])
def list_documents(backend: BackendDep) -> dict:
    return backend.documents()


@router.post("", status_code=201, dependencies=[Depends(require_writer), Depends(require_json)])
def add_document(body: DocumentRequest, backend: BackendDep) -> JSONResponse:
    """Adds the document, or replaces the one with this id; answers once the index includes it."""
    replaced = body.id in backend.ready_engine().index.documents
    result = backend.add_document(body.id, body.text)
    return JSONResponse({**result, "replaced": replaced}, status_code=200 if replaced else 201)


@router.delete("/{doc_id}", dependencies=[Depends(require_writer)])
def delete_document(doc_id: str, backend: BackendDep) -> dict:
    return backend.remove_document(doc_id)
