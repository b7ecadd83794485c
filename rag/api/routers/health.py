"""Liveness and readiness for process managers and load balancers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from rag.api.backend import Backend, get_backend

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(backend: Annotated[Backend, Depends(get_backend)]) -> JSONResponse:
    body = {"status": backend.status}
    if backend.error:
        body["error"] = backend.error
    if backend.reload_error:
        body["reload_error"] = backend.reload_error  # still serving the previous index
    if backend.engine:
        body.update(documents=len(backend.engine.index.documents), chunks=len(backend.engine.index.chunks))
    return JSONResponse(body, status_code=200 if backend.engine else 503)
