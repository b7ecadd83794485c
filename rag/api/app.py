"""The FastAPI application: routers, error handlers and the engine, loaded once at start-up."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from rag.api import errors
from rag.api.backend import Backend
from rag.api.routers import chat, documents, health, page, qa
from rag.config import Settings, load_access_settings, load_llm_settings, load_settings
from rag.generation import Generator
from rag.service import Engine


def engine_loader(corpus: Path | None = None, index: Path | None = None, settings: Settings | None = None) -> Callable[[], Engine]:
    """Opens the engine from `RAG_CORPUS` / `RAG_INDEX` (default ./corpus, ./index) unless given."""
    corpus = corpus or Path(os.environ.get("RAG_CORPUS", "corpus"))
    index = index or Path(os.environ.get("RAG_INDEX", "index"))
    return lambda: Engine.open(corpus, index, settings or load_settings())


def create_app(load: Callable[[], Engine] | None = None, generator: Generator | None = None) -> FastAPI:
    llm = load_llm_settings()
    backend = Backend(load or engine_loader(), generator or (Generator(llm) if llm else None))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        backend.start()
        yield
        backend.stop()

    app = FastAPI(title="rag", summary="Cited answers from Chinese news, in English, Simplified or Traditional Chinese.", lifespan=lifespan)
    app.state.backend = backend
    app.state.access = load_access_settings()
    errors.install(app)
    for module in (qa, chat, documents, health, page):
        app.include_router(module.router)
    return app
