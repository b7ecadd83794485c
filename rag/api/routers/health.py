"""Liveness and readiness for process managers and load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rag.api import examples
from rag.api.backend import BackendDep
from rag.api.schemas import Health, Readiness, SkippedFile

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    summary="Is the server alive?",
    description="Always answers at once, even while the index loads or questions queue: for liveness probes.",
    responses=examples.responses("healthz"),
)
async def healthz() -> Health:
    """On the event loop, never behind the question thread or the thread pool: always fast."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    responses=examples.responses("readyz", {503: {"model": Readiness, "description": "loading, or failed to load"}}),
    summary="Can questions be answered yet?",
    description=(
        "503 with `status: loading` until the model and index are loaded (or `failed`, with the error), then 200 "
        "with the numbers of documents and passages, the store that searches them (`local` or `milvus`) and the corpus "
        "files that are not searchable: for readiness probes. With `RAG_PROTECT_READS=1`, callers without the key see "
        "the status only."
    ),
)
async def readyz(request: Request, backend: BackendDep) -> JSONResponse:
    """Counts and errors only for key holders when reads are protected; the status for anyone."""
    engine = backend.engine
    body = Readiness(status=backend.status)
    if request.app.state.settings.protect_reads and not request.state.key_valid:
        return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if engine else 503)
    body.error, body.reload_error = backend.error, backend.reload_error
    if engine:
        body.documents, body.chunks, body.store = len(engine.index.documents), len(engine.index.chunks), engine.index.store.kind.value
        skipped = engine.index.manifest.get("skipped_reasons", {})
        body.skipped = [SkippedFile(id=name, reason=why) for name, why in skipped.items()] or None
    return JSONResponse(body.model_dump(exclude_none=True), status_code=200 if engine else 503)
