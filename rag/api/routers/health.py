"""Liveness and readiness for process managers and load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from rag.api.backend import BackendDep
from rag.api.schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness, "description": "loading, or failed to load"}})
def readyz(backend: BackendDep) -> JSONResponse:
    engine = backend.engine
    body = Readiness(status=backend.status, error=backend.error, reload_error=backend.reload_error)
    if engine:
        body.documents, body.chunks = len(engine.index.documents), len(engine.index.chunks)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if engine else 503)
